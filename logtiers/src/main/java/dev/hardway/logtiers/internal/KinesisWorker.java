package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.Alarm;
import dev.hardway.logtiers.DropReason;
import dev.hardway.logtiers.KinesisTier;
import dev.hardway.logtiers.LogRecords;
import dev.hardway.logtiers.Tier;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.AccessDeniedException;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * The low tier: one background thread ({@code hardway-logtiers-low}) drains the ring into KPL aggregates and hands
 * PutRecords calls to at most {@link KinesisTier#maxRequestsInFlight()} sender threads (virtual threads named
 * {@code hardway-logtiers-low-put-N}, one more for the shard map).
 *
 * <p><b>Aggregates.</b> Frames are copied out of the ring (their CRC32C filled in) into one open {@link KplAggregate},
 * sealed when the next frame would take it over 1 MiB or when its oldest record has waited the linger. Its shard is
 * chosen only when it is sent: round-robin over the open shards whose token buckets (records and bytes, scaled by
 * {@link KinesisTier#shardLimitPercent()}) allow it; the aggregate's one explicit hash key is that shard's starting
 * hash key, so every sub-record hashes where the Kinesis record lands. A failed aggregate may go to another shard when
 * resent.
 *
 * <p><b>Calls.</b> A PutRecords call takes up to 500 aggregates and 5 MiB (data plus partition keys), due retries
 * first. Entries that fail (throughput exceeded, internal failure) are resent alone, after a backoff with jitter; a
 * throughput failure also empties that shard's buckets. A whole call that fails holds back every call for a backoff
 * and is told to the listener; 403 or a missing stream raises {@link Alarm.Kind#DESTINATION_REFUSED}, cleared by the
 * next call that succeeds. Each call has a timeout of 6 s (the KPL's), or the record time-to-live when shorter.
 *
 * <p><b>Time-to-live.</b> Measured on the monotonic clock from the moment this worker reads a record from the ring, so
 * a wall-clock step neither expires nor prolongs records (the time spent in the ring, normally microseconds, is not
 * counted). An aggregate is dropped as a whole, every record in it counted {@link DropReason#EXPIRED}, when its oldest
 * record's time is up and it is not in a call; its records were read within one linger of each other.
 *
 * <p><b>Bounds and counting.</b> The ring is the buffer: the bytes held in aggregates (open, waiting or in calls) stay
 * under 5 MiB per sender plus one, at most 64 MiB; at the bound the worker stops reading, the ring fills and appends
 * are dropped as {@link DropReason#RING_FULL} by the hot path. Every frame read is counted exactly once, delivered or
 * dropped: an aggregate belongs to one place at a time, and a call's answer decides each entry once. A call that
 * timed out may still have been stored by Kinesis; its resend is then a duplicate delivery (same record identity)
 * counted once. A frame too large for a Kinesis record with the partition key is counted
 * {@link DropReason#TOO_LARGE}; a frame that fits only without the aggregation overhead is sent alone, unaggregated.
 */
public final class KinesisWorker implements TierWorker {
  private static final int MAX_CALL_RECORDS = 500;
  private static final long MAX_CALL_BYTES = 5L << 20;
  private static final double SHARD_RECORDS_PER_SECOND = 1_000;
  private static final double SHARD_BYTES_PER_SECOND = 1 << 20;
  private static final long KPL_REQUEST_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(6);
  private static final long MAX_PENDING_BYTES = 64L << 20;
  private static final long UNCOMMITTED_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final String THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException";

  private final KinesisTier config;
  private final TierContext context;
  private final TierCounters counters;
  private final RingBuffer ring;
  private final KinesisClient kinesis;
  private final String stream;
  private final String partitionKey;
  private final byte[] partitionKeyBytes;
  private final long lingerNanos;
  private final long ttlNanos;
  private final long refreshNanos;
  private final long pendingLimit;
  private final Duration callTimeout;
  private final double shardRecordsPerSecond;
  private final double shardBytesPerSecond;
  private final ExecutorService senders;
  private final ConcurrentLinkedQueue<Object> events = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean closeCalled = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile boolean closing;
  private volatile long closeDeadline;
  private volatile @Nullable Thread thread;
  private final Object finishLock = new Object();
  private boolean finished;

  // Everything below belongs to the worker thread.
  private final CRC32C crc = new CRC32C();
  private final ControlledMessageHandler reader = this::onFrame;
  private final UnsafeBuffer patch = new UnsafeBuffer(0, 0);
  private final ArrayDeque<Pending> ready = new ArrayDeque<>();
  private final List<Pending> retrying = new ArrayList<>();
  private final Set<Call> calls = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<String, ShardSlot> shards = new LinkedHashMap<>();
  private final List<ShardSlot> open = new ArrayList<>();
  private @Nullable KplAggregate current;
  private long currentFirstRead;
  private long loopNanos;
  private long pendingBytes;
  private int roundRobin;
  private boolean refreshing;
  private boolean mapStale = true;
  private long nextRefresh;
  private int refreshFailures;
  private long callGate;
  private int callFailures;
  private boolean refusedRaised;

  /**
   * A worker for one low tier; {@link #start()} starts its thread.
   *
   * @param config the tier
   * @param channel its ring
   * @param context the owner's context
   */
  public KinesisWorker(KinesisTier config, TierChannel channel, TierContext context) {
    this.config = config;
    this.context = context;
    this.counters = channel.counters();
    this.ring = channel.ring();
    this.kinesis = config.kinesis();
    this.stream = config.stream();
    // One short partition key for every record: with an explicit hash key it only counts against the size limits.
    this.partitionKey = context.host();
    this.partitionKeyBytes = partitionKey.getBytes(StandardCharsets.UTF_8);
    this.lingerNanos = config.linger().toNanos();
    this.ttlNanos = config.recordTtl().toNanos();
    this.refreshNanos = config.shardRefresh().toNanos();
    this.pendingLimit = Math.min(MAX_PENDING_BYTES, MAX_CALL_BYTES * (config.maxRequestsInFlight() + 1));
    this.callTimeout = Duration.ofNanos(Math.min(KPL_REQUEST_TIMEOUT_NANOS, ttlNanos));
    this.shardRecordsPerSecond = SHARD_RECORDS_PER_SECOND * config.shardLimitPercent() / 100.0;
    this.shardBytesPerSecond = SHARD_BYTES_PER_SECOND * config.shardLimitPercent() / 100.0;
    // Virtual threads, not the owner's factory: a virtual thread blocked in socket I/O is woken by an interrupt
    // (the socket is closed, JEP 444), so close() can stop a call hanging on a partitioned network at its deadline.
    // One thread more than the calls in flight: the shard map's ListShards never waits behind PutRecords.
    ThreadFactory virtual = Thread.ofVirtual().name("hardway-logtiers-low-put-", 1).factory();
    this.senders = Executors.newFixedThreadPool(config.maxRequestsInFlight() + 1, virtual);
  }

  @Override
  public void start() {
    if (!started.compareAndSet(false, true) || closeCalled.get()) {
      return;
    }
    Thread t = context.threads().newThread(this::run);
    t.setName("hardway-logtiers-low");
    thread = t;
    t.start();
  }

  @Override
  public void close(long deadlineNanos) {
    if (!closeCalled.compareAndSet(false, true)) {
      awaitFinished(deadlineNanos);
      return;
    }
    closeDeadline = deadlineNanos;
    closing = true;
    Thread t = thread;
    if (t == null) {
      finish(System.nanoTime());
      return;
    }
    LockSupport.unpark(t);
    awaitFinished(deadlineNanos);
  }

  private void awaitFinished(long deadlineNanos) {
    Thread t = thread;
    if (t == null) {
      return;
    }
    // The worker stops itself at the deadline; the extra second covers interrupting the senders.
    long waitMillis = Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000 + 1_000);
    try {
      t.join(waitMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    IdleStrategy idle = new BackoffIdleStrategy(10, 20, 1_000, 1_000_000);
    while (true) {
      int work = 0;
      long now = System.nanoTime();
      loopNanos = now;
      boolean pastDeadline = closing && now - closeDeadline >= 0;
      try {
        work += drainEvents(now);
        if (pastDeadline) {
          break;
        }
        work += refreshIfDue(now);
        work += readRing();
        work += sealIfDue(now);
        work += expire(now);
        work += dispatch(now);
        if (closing && drained()) {
          break;
        }
      } catch (RuntimeException e) {
        // A bug here must not stop delivery: tell the listener and go on.
        context.failure(Tier.LOW, e);
      }
      idle.idle(work);
    }
    finish(System.nanoTime());
  }

  private boolean drained() {
    return ring.producerPosition() == ring.consumerPosition() && (current == null || current.count() == 0)
        && ready.isEmpty() && retrying.isEmpty() && calls.isEmpty();
  }

  // ---- reading the ring

  private int readRing() {
    if (pendingBytes >= pendingLimit) {
      return 0;
    }
    return ring.controlledRead(reader, 4_096);
  }

  private ControlledMessageHandler.Action onFrame(int type, MutableDirectBuffer buffer, int index, int length) {
    if (type != TierChannel.FRAME) {
      return ControlledMessageHandler.Action.CONTINUE;
    }
    if (pendingBytes >= pendingLimit) {
      return ControlledMessageHandler.Action.ABORT;
    }
    if ((long) length + partitionKeyBytes.length > KplAggregate.MAX_KINESIS_RECORD_BYTES) {
      counters.dropped(DropReason.TOO_LARGE, 1);
      return ControlledMessageHandler.Action.CONTINUE;
    }
    KplAggregate into = current;
    int at = into == null ? -1 : into.tryAppend(buffer, index, length);
    if (at < 0) {
      seal();
      into = new KplAggregate(partitionKeyBytes);
      current = into;
      at = into.tryAppend(buffer, index, length);
      if (at < 0) {
        // Cannot happen: an empty aggregate takes any frame that fits a Kinesis record with its key.
        counters.dropped(DropReason.TOO_LARGE, 1);
        return ControlledMessageHandler.Action.CONTINUE;
      }
    }
    if (into.count() == 1) {
      currentFirstRead = loopNanos;
    }
    // The checksum is taken over the copy in the aggregate's heap array: no view of the off-heap ring per frame.
    byte[] data = into.array();
    crc.reset();
    crc.update(data, at + LogRecords.VERSION_OFFSET, length - LogRecords.VERSION_OFFSET);
    patch.wrap(data);
    patch.putInt(at + LogRecords.CRC_OFFSET, (int) crc.getValue(), ByteOrder.LITTLE_ENDIAN);
    pendingBytes += length;
    return ControlledMessageHandler.Action.CONTINUE;
  }

  private void seal() {
    KplAggregate a = current;
    if (a != null && a.count() > 0) {
      ready.addLast(new Pending(a, currentFirstRead));
      current = null;
    }
  }

  private int sealIfDue(long now) {
    KplAggregate a = current;
    if (a != null && a.count() > 0 && (closing || a.raw() || now - currentFirstRead >= lingerNanos)) {
      seal();
      return 1;
    }
    return 0;
  }

  // ---- time-to-live

  private int expire(long now) {
    int dropped = 0;
    while (!ready.isEmpty() && now - ready.peekFirst().firstRead >= ttlNanos) {
      drop(ready.pollFirst(), DropReason.EXPIRED);
      dropped++;
    }
    for (Iterator<Pending> it = retrying.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (now - p.firstRead >= ttlNanos) {
        it.remove();
        drop(p, DropReason.EXPIRED);
        dropped++;
      }
    }
    return dropped;
  }

  private void drop(Pending p, DropReason reason) {
    counters.dropped(reason, p.aggregate.count());
    pendingBytes -= p.aggregate.dataBytes();
  }

  // ---- sending

  private int dispatch(long now) {
    if (open.isEmpty() || now - callGate < 0) {
      return 0;
    }
    int sent = 0;
    while (calls.size() < config.maxRequestsInFlight()) {
      Call call = fill(now);
      if (call == null) {
        break;
      }
      calls.add(call);
      try {
        senders.execute(() -> send(call));
      } catch (RejectedExecutionException e) {
        call.failure = e;
        events.add(call);
      }
      sent++;
    }
    return sent;
  }

  private @Nullable Call fill(long now) {
    List<Pending> entries = new ArrayList<>();
    List<ShardSlot> targets = new ArrayList<>();
    long bytes = 0;
    boolean blocked = false;
    for (Iterator<Pending> it = retrying.iterator(); it.hasNext() && entries.size() < MAX_CALL_RECORDS; ) {
      Pending p = it.next();
      if (now - p.notBefore < 0) {
        continue;
      }
      ShardSlot s = pick(p, now, bytes);
      if (s == null) {
        blocked = true;
        break;
      }
      it.remove();
      entries.add(p);
      targets.add(s);
      bytes += p.aggregate.kinesisBytes(s.hashKey.length());
    }
    while (!blocked && !ready.isEmpty() && entries.size() < MAX_CALL_RECORDS) {
      Pending p = ready.peekFirst();
      ShardSlot s = pick(p, now, bytes);
      if (s == null) {
        break;
      }
      ready.pollFirst();
      entries.add(p);
      targets.add(s);
      bytes += p.aggregate.kinesisBytes(s.hashKey.length());
    }
    return entries.isEmpty() ? null : new Call(entries, targets);
  }

  /** The next open shard, round-robin, whose buckets take this aggregate, with room in the call; it takes them. */
  private @Nullable ShardSlot pick(Pending p, long now, long callBytes) {
    int n = open.size();
    for (int i = 0; i < n; i++) {
      int at = (roundRobin + i) % n;
      ShardSlot s = open.get(at);
      int cost = p.aggregate.kinesisBytes(s.hashKey.length());
      if (callBytes + cost > MAX_CALL_BYTES) {
        return null;
      }
      if (s.records.available(1, now) && s.bytes.available(cost, now)) {
        s.records.take(1);
        s.bytes.take(cost);
        roundRobin = at + 1;
        return s;
      }
    }
    return null;
  }

  /** On a sender thread: encodes and calls; the worker thread reads the outcome. */
  private void send(Call call) {
    try {
      List<PutRecordsRequestEntry> entries = new ArrayList<>(call.entries.size());
      for (int i = 0; i < call.entries.size(); i++) {
        String hashKey = call.targets.get(i).hashKey;
        entries.add(PutRecordsRequestEntry.builder()
            .data(SdkBytes.fromByteArrayUnsafe(call.entries.get(i).aggregate.encode(hashKey)))
            .partitionKey(partitionKey)
            .explicitHashKey(hashKey)
            .build());
      }
      call.response = kinesis.putRecords(PutRecordsRequest.builder()
          .streamName(stream)
          .records(entries)
          .overrideConfiguration(o -> o.apiCallTimeout(callTimeout))
          .build());
    } catch (RuntimeException | Error e) {
      call.failure = e;
    }
    events.add(call);
    wake();
  }

  private void wake() {
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  private int drainEvents(long now) {
    int n = 0;
    Object event;
    while ((event = events.poll()) != null) {
      n++;
      if (event instanceof Call call) {
        completed(call, now);
      } else if (event instanceof MapResult map) {
        mapped(map, now);
      }
    }
    return n;
  }

  private void completed(Call call, long now) {
    if (!calls.remove(call)) {
      return;
    }
    PutRecordsResponse response = call.response;
    if (response == null) {
      Throwable failure = call.failure;
      callFailures++;
      callGate = now + TimeUnit.MILLISECONDS.toNanos(backoffMillis(callFailures));
      if (failure != null) {
        if (refused(failure)) {
          refuse(failure);
        }
        if (failure instanceof ResourceNotFoundException) {
          // The stream may have been deleted and made again: its shards are new.
          mapStale = true;
        }
        context.failure(Tier.LOW, failure);
      }
      for (Pending p : call.entries) {
        retryOrExpire(p, now);
      }
      return;
    }
    callFailures = 0;
    if (refusedRaised) {
      refusedRaised = false;
      context.alarm(counters, Alarm.Kind.DESTINATION_REFUSED, "Kinesis stream '" + stream + "' takes writes again",
          false);
    }
    List<PutRecordsResultEntry> results = response.records();
    long nowMicros = context.nowMicros();
    for (int i = 0; i < call.entries.size(); i++) {
      Pending p = call.entries.get(i);
      ShardSlot target = call.targets.get(i);
      PutRecordsResultEntry r = i < results.size() ? results.get(i) : null;
      if (r != null && r.errorCode() == null) {
        delivered(p, nowMicros);
        if (r.shardId() != null && !r.shardId().equals(target.id)) {
          // The hash key landed elsewhere: the shard was split or merged.
          mapStale = true;
        }
      } else {
        if (r != null && THROUGHPUT_EXCEEDED.equals(r.errorCode())) {
          target.records.empty(now);
          target.bytes.empty(now);
        }
        retryOrExpire(p, now);
      }
    }
  }

  private void delivered(Pending p, long nowMicros) {
    KplAggregate a = p.aggregate;
    counters.delivered(a.count());
    UnsafeBuffer frames = new UnsafeBuffer(a.array());
    for (int i = 0; i < a.count(); i++) {
      counters.latency(nowMicros - frames.getLong(a.start(i) + LogRecords.TIMESTAMP_OFFSET, ByteOrder.LITTLE_ENDIAN));
    }
    pendingBytes -= a.dataBytes();
  }

  private void retryOrExpire(Pending p, long now) {
    if (now - p.firstRead >= ttlNanos) {
      drop(p, DropReason.EXPIRED);
      return;
    }
    p.attempts++;
    p.notBefore = now + TimeUnit.MILLISECONDS.toNanos(backoffMillis(p.attempts));
    if (!(closing && now - closeDeadline >= 0)) {
      counters.retried();
    }
    retrying.add(p);
  }

  private long backoffMillis(int failures) {
    return context.backoffMillis(config.retryBase().toMillis(), config.retryMax().toMillis(), failures);
  }

  private static boolean refused(Throwable failure) {
    if (failure instanceof ResourceNotFoundException || failure instanceof AccessDeniedException) {
      return true;
    }
    if (failure instanceof AwsServiceException e) {
      String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      return e.statusCode() == 403 || "AccessDeniedException".equals(code)
          || "UnrecognizedClientException".equals(code);
    }
    return false;
  }

  private void refuse(Throwable failure) {
    refusedRaised = true;
    context.alarm(counters, Alarm.Kind.DESTINATION_REFUSED, "Kinesis stream '" + stream + "' refuses writes: "
        + failure.getMessage(), true);
  }

  // ---- the shard map

  private int refreshIfDue(long now) {
    if (refreshing || !(mapStale || now - nextRefresh >= 0)) {
      return 0;
    }
    refreshing = true;
    mapStale = false;
    try {
      senders.execute(this::listShards);
    } catch (RejectedExecutionException e) {
      refreshing = false;
    }
    return 1;
  }

  /** On a sender thread: every page of ListShards. */
  private void listShards() {
    MapResult result;
    try {
      List<Shard> all = new ArrayList<>();
      ListShardsResponse page = kinesis.listShards(ListShardsRequest.builder().streamName(stream)
          .overrideConfiguration(o -> o.apiCallTimeout(callTimeout)).build());
      all.addAll(page.shards());
      while (page.nextToken() != null) {
        String token = page.nextToken();
        page = kinesis.listShards(ListShardsRequest.builder().nextToken(token)
            .overrideConfiguration(o -> o.apiCallTimeout(callTimeout)).build());
        all.addAll(page.shards());
      }
      result = new MapResult(all, null);
    } catch (RuntimeException | Error e) {
      result = new MapResult(List.of(), e);
    }
    events.add(result);
    wake();
  }

  private void mapped(MapResult result, long now) {
    refreshing = false;
    Throwable failure = result.failure;
    if (failure != null) {
      refreshFailures++;
      nextRefresh = now + TimeUnit.MILLISECONDS.toNanos(backoffMillis(refreshFailures));
      if (refused(failure)) {
        refuse(failure);
      }
      context.failure(Tier.LOW, failure);
      return;
    }
    refreshFailures = 0;
    nextRefresh = now + refreshNanos;
    Map<String, ShardSlot> next = new LinkedHashMap<>();
    for (Shard s : result.shards) {
      // A closed shard (a parent after a split or merge) has an ending sequence number and takes no writes.
      if (s.sequenceNumberRange() != null && s.sequenceNumberRange().endingSequenceNumber() != null) {
        continue;
      }
      ShardSlot known = shards.get(s.shardId());
      next.put(s.shardId(), known != null ? known : new ShardSlot(s.shardId(), s.hashKeyRange().startingHashKey(),
          new TokenBucket(shardRecordsPerSecond, now), new TokenBucket(shardBytesPerSecond, now)));
    }
    if (next.isEmpty()) {
      // Keep writing to the old map rather than to nothing; the next refresh comes soon.
      nextRefresh = now + TimeUnit.MILLISECONDS.toNanos(backoffMillis(1));
      return;
    }
    shards.clear();
    shards.putAll(next);
    open.clear();
    open.addAll(next.values());
  }

  // ---- closing

  private void finish(long now) {
    synchronized (finishLock) {
      if (finished) {
        return;
      }
      finished = true;
    }
    senders.shutdownNow();
    try {
      // Interrupted calls come back at once; a call that does not is counted CLOSED below.
      if (!senders.awaitTermination(1, TimeUnit.SECONDS)) {
        context.failure(Tier.LOW, new IllegalStateException("a Kinesis call of stream '" + stream
            + "' did not stop within 1 s of being interrupted at close"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    drainEvents(System.nanoTime());
    seal();
    for (Pending p : ready) {
      drop(p, DropReason.CLOSED);
    }
    ready.clear();
    for (Pending p : retrying) {
      drop(p, DropReason.CLOSED);
    }
    retrying.clear();
    for (Call call : calls) {
      for (Pending p : call.entries) {
        drop(p, DropReason.CLOSED);
      }
    }
    calls.clear();
    // An append that passed the closed check just before close() may commit its frame a moment later.
    long until = System.nanoTime() + UNCOMMITTED_WAIT_NANOS;
    do {
      ring.read((type, buffer, index, length) -> {
        if (type == TierChannel.FRAME) {
          counters.dropped(DropReason.CLOSED, 1);
        }
      }, Integer.MAX_VALUE);
      if (ring.producerPosition() == ring.consumerPosition()) {
        break;
      }
      Thread.onSpinWait();
    } while (System.nanoTime() - until < 0);
  }

  // ---- state

  /** A sealed aggregate waiting to be sent or resent. */
  private static final class Pending {
    final KplAggregate aggregate;
    final long firstRead;
    int attempts;
    long notBefore;

    Pending(KplAggregate aggregate, long firstRead) {
      this.aggregate = aggregate;
      this.firstRead = firstRead;
    }
  }

  /** One PutRecords call: entry i goes to targets i; the sender fills in the outcome. */
  private static final class Call {
    final List<Pending> entries;
    final List<ShardSlot> targets;
    volatile @Nullable PutRecordsResponse response;
    volatile @Nullable Throwable failure;

    Call(List<Pending> entries, List<ShardSlot> targets) {
      this.entries = entries;
      this.targets = targets;
    }
  }

  /** An open shard: where its aggregates point their hash key, and its write limits. */
  private record ShardSlot(String id, String hashKey, TokenBucket records, TokenBucket bytes) {}

  /** The outcome of a ListShards refresh. */
  private record MapResult(List<Shard> shards, @Nullable Throwable failure) {}
}
