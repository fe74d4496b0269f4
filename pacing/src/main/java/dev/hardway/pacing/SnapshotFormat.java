package dev.hardway.pacing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator service's snapshot in S3: the {@link CoordinatorSnapshot} and where the report stream was read
 * up to. Binary, with a magic and a version; counts bounded before anything is allocated for them.
 */
final class SnapshotFormat {
  static final int MAGIC = 0x48505301; // "HPS" v1
  private static final int MAX_ITEMS = 10_000_000;

  /**
   * What the service stores.
   *
   * @param coordinator the coordinator's books
   * @param positions per shard, the sequence number read up to
   */
  record Stored(CoordinatorSnapshot coordinator, Map<String, String> positions) {}

  private SnapshotFormat() {}

  static byte[] encode(CoordinatorSnapshot s, Map<String, String> positions) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(4096);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeLong(s.term());
      out.writeLong(s.version());
      out.writeLong(s.takenAtMillis());
      out.writeInt(s.budgets().size());
      for (BudgetSpec b : s.budgets()) {
        writeSpec(out, b);
      }
      out.writeInt(s.periods().size());
      for (CoordinatorSnapshot.Period p : s.periods()) {
        out.writeUTF(p.budgetId());
        out.writeLong(p.period());
        out.writeLong(p.startMillis());
        out.writeLong(p.endMillis());
        out.writeInt(p.slotOpportunities().size());
        for (long v : p.slotOpportunities()) {
          out.writeLong(v);
        }
        out.writeLong(p.reclaimedMicros());
        out.writeInt(p.boxes().size());
        for (CoordinatorSnapshot.Box b : p.boxes()) {
          out.writeUTF(b.box().region());
          out.writeUTF(b.box().name());
          out.writeLong(b.grantedMicros());
          SpendReport r = b.report();
          out.writeBoolean(r != null);
          if (r != null) {
            out.writeLong(r.sentAtMillis());
            WireFormat.writeCounters(out, r);
          }
          out.writeLong(b.heardAtMillis());
          out.writeDouble(b.demandMicrosPerSecond());
          out.writeDouble(b.opportunitiesPerSecond());
          out.writeInt(b.leases().size());
          for (Lease l : b.leases()) {
            WireFormat.writeLease(out, l);
          }
        }
      }
      out.writeInt(s.learnedCurves().size());
      for (Map.Entry<String, List<Double>> e : s.learnedCurves().entrySet()) {
        out.writeUTF(e.getKey());
        out.writeInt(e.getValue().size());
        for (double d : e.getValue()) {
          out.writeDouble(d);
        }
      }
      out.writeInt(positions.size());
      for (Map.Entry<String, String> e : positions.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void writeSpec(DataOutputStream out, BudgetSpec b) throws IOException {
    out.writeUTF(b.id());
    out.writeLong(b.amountMicros());
    out.writeUTF(b.zone() == null ? "" : b.zone().getId());
    out.writeLong(b.start().getEpochSecond());
    out.writeInt(b.start().getNano());
    out.writeLong(b.end().getEpochSecond());
    out.writeInt(b.end().getNano());
    WireFormat.writeDegradation(out, b.degradation());
  }

  static Stored decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      int m = in.readInt();
      if (m != MAGIC) {
        throw new IllegalArgumentException("not a Hardway coordinator snapshot v1 (magic 0x" + Integer.toHexString(m)
            + ")");
      }
      long term = in.readLong();
      long version = in.readLong();
      long takenAt = in.readLong();
      int nb = count(in);
      List<BudgetSpec> budgets = new ArrayList<>();
      for (int i = 0; i < nb; i++) {
        budgets.add(readSpec(in));
      }
      int np = count(in);
      List<CoordinatorSnapshot.Period> periods = new ArrayList<>();
      for (int i = 0; i < np; i++) {
        String id = in.readUTF();
        long period = in.readLong();
        long start = in.readLong();
        long end = in.readLong();
        int ns = count(in);
        List<Long> slots = new ArrayList<>();
        for (int k = 0; k < ns; k++) {
          slots.add(in.readLong());
        }
        long reclaimed = in.readLong();
        int nbox = count(in);
        List<CoordinatorSnapshot.Box> boxes = new ArrayList<>();
        for (int k = 0; k < nbox; k++) {
          BoxId box = new BoxId(in.readUTF(), in.readUTF());
          long granted = in.readLong();
          SpendReport report = null;
          if (in.readBoolean()) {
            long sentAt = in.readLong();
            report = WireFormat.readCounters(in, box, sentAt);
          }
          long heard = in.readLong();
          double demand = in.readDouble();
          double opportunities = in.readDouble();
          int nl = count(in);
          List<Lease> leases = new ArrayList<>();
          for (int j = 0; j < nl; j++) {
            leases.add(WireFormat.readLease(in));
          }
          boxes.add(new CoordinatorSnapshot.Box(box, granted, report, heard, demand, opportunities, leases));
        }
        periods.add(new CoordinatorSnapshot.Period(id, period, start, end, slots, reclaimed, boxes));
      }
      int nc = count(in);
      Map<String, List<Double>> curves = new HashMap<>();
      for (int i = 0; i < nc; i++) {
        String id = in.readUTF();
        int n = count(in);
        List<Double> curve = new ArrayList<>();
        for (int k = 0; k < n; k++) {
          curve.add(in.readDouble());
        }
        curves.put(id, curve);
      }
      int npos = count(in);
      Map<String, String> positions = new HashMap<>();
      for (int i = 0; i < npos; i++) {
        positions.put(in.readUTF(), in.readUTF());
      }
      if (in.read() != -1) {
        throw new IllegalArgumentException("trailing bytes after the snapshot");
      }
      return new Stored(new CoordinatorSnapshot(term, version, takenAt, budgets, periods, curves), positions);
    } catch (IOException | RuntimeException e) {
      // RuntimeException: a record's own checks, and an unknown time zone (DateTimeException).
      throw new PacingException("malformed coordinator snapshot (" + data.length + " bytes): " + e.getMessage(),
          false, e);
    }
  }

  private static BudgetSpec readSpec(DataInputStream in) throws IOException {
    String id = in.readUTF();
    long amount = in.readLong();
    String zone = in.readUTF();
    Instant start = Instant.ofEpochSecond(in.readLong(), in.readInt());
    Instant end = Instant.ofEpochSecond(in.readLong(), in.readInt());
    Degradation d = WireFormat.readDegradation(in);
    return new BudgetSpec(id, amount, zone.isEmpty() ? null : ZoneId.of(zone), start, end, d);
  }

  private static int count(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_ITEMS) {
      throw new IllegalArgumentException("count " + n + " is outside 0.." + MAX_ITEMS);
    }
    return n;
  }
}
