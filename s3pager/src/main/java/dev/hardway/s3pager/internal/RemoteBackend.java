package dev.hardway.s3pager.internal;

import dev.hardway.s3pager.S3PagerException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/** Userfaultfd mode: one object served by the pager's handler process, through its {@link HandlerLink}. */
public final class RemoteBackend implements Backend {
  private final HandlerLink link;
  private final int id;
  private final Mapping mapping;
  private final Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<long[]>> statsPending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile @Nullable String failure;
  private volatile boolean closed;

  RemoteBackend(HandlerLink link, int id, Mapping mapping) {
    this.link = link;
    this.id = id;
    this.mapping = mapping;
  }

  Mapping mapping() {
    return mapping;
  }

  void awaited(long request, @Nullable String error, boolean retryable) {
    CompletableFuture<Void> f = pending.remove(request);
    if (f != null) {
      if (error == null) {
        f.complete(null);
      } else {
        f.completeExceptionally(new S3PagerException(error, retryable));
      }
    }
  }

  void statsReply(long request, long[] stats) {
    CompletableFuture<long[]> f = statsPending.remove(request);
    if (f != null) {
      f.complete(stats);
    }
  }

  void failed(String message) {
    failure = message;
  }

  /** The handler died: poison what is missing, fail what is pending. */
  void handlerDied(String message) {
    if (failure == null) {
      failure = message;
    }
    if (!closed) {
      mapping.poisonMissing();
    }
    S3PagerException e = new S3PagerException(message, true);
    pending.values().forEach(f -> f.completeExceptionally(e));
    pending.clear();
    statsPending.values().forEach(f -> f.completeExceptionally(e));
    statsPending.clear();
  }

  private @Nullable S3PagerException dead() {
    String f = failure;
    return !link.alive() && f != null ? new S3PagerException(f, true) : null;
  }

  @Override
  public void prefetch(long first, long last) {
    link.send(o -> {
      o.writeByte(Protocol.PREFETCH);
      o.writeInt(id);
      o.writeLong(first);
      o.writeLong(last);
    });
  }

  @Override
  public void accessed(int chunk) {
    link.send(o -> {
      o.writeByte(Protocol.ACCESSED);
      o.writeInt(id);
      o.writeInt(chunk);
    });
  }

  @Override
  public CompletableFuture<Void> await(long first, long last) {
    long request = ids.incrementAndGet();
    CompletableFuture<Void> f = new CompletableFuture<>();
    S3PagerException dead = dead();
    if (dead != null) {
      f.completeExceptionally(dead);
      return f;
    }
    pending.put(request, f);
    link.send(o -> {
      o.writeByte(Protocol.AWAIT);
      o.writeInt(id);
      o.writeLong(request);
      o.writeLong(first);
      o.writeLong(last);
    });
    // The handler may have died between the check and the put: its exit watcher has run or will find it.
    dead = dead();
    if (dead != null && pending.remove(request) != null) {
      f.completeExceptionally(dead);
    }
    return f;
  }

  @Override
  public CompletableFuture<long[]> stats() {
    long request = ids.incrementAndGet();
    CompletableFuture<long[]> f = new CompletableFuture<>();
    statsPending.put(request, f);
    link.send(o -> {
      o.writeByte(Protocol.STATS);
      o.writeInt(id);
      o.writeLong(request);
    });
    S3PagerException dead = dead();
    if (dead != null && statsPending.remove(request) != null) {
      f.completeExceptionally(dead);
    }
    return f;
  }

  @Override
  public @Nullable String failure() {
    return failure;
  }

  @Override
  public long handlerPid() {
    return link.pid();
  }

  @Override
  public void close() {
    closed = true;
    link.close(id, mapping);
    S3PagerException e = new S3PagerException("the object is closed", false);
    pending.values().forEach(f -> f.completeExceptionally(e));
    statsPending.values().forEach(f -> f.completeExceptionally(e));
  }
}
