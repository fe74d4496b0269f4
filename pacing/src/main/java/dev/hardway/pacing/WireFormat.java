package dev.hardway.pacing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bytes on the wire: a box's reports in one Kinesis record, the coordinator's allocation in one S3 object. A
 * binary format with a magic and a version, so that a reader refuses what it does not understand instead of
 * guessing; every count is bounded before anything is allocated for it.
 */
final class WireFormat {
  static final int REPORTS_MAGIC = 0x48505201; // "HPR" v1
  static final int ALLOCATION_MAGIC = 0x48504101; // "HPA" v1
  private static final int MAX_ITEMS = 1_000_000;

  private WireFormat() {}

  static byte[] encodeReports(BoxId box, long sentAtMillis, List<SpendReport> reports) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + reports.size() * 96);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(REPORTS_MAGIC);
      out.writeUTF(box.region());
      out.writeUTF(box.name());
      out.writeLong(sentAtMillis);
      out.writeInt(reports.size());
      for (SpendReport r : reports) {
        if (!r.box().equals(box)) {
          throw new IllegalArgumentException("a report of " + r.box() + " in the batch of " + box);
        }
        writeCounters(out, r);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static List<SpendReport> decodeReports(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      magic(in, REPORTS_MAGIC, "reports");
      BoxId box = new BoxId(in.readUTF(), in.readUTF());
      long sentAt = in.readLong();
      int n = count(in, "reports");
      List<SpendReport> out = new ArrayList<>(Math.min(n, 1024));
      for (int i = 0; i < n; i++) {
        out.add(readCounters(in, box, sentAt));
      }
      end(in, "reports");
      return out;
    } catch (IOException | IllegalArgumentException e) {
      throw new PacingException("malformed reports record (" + data.length + " bytes): " + e.getMessage(), false, e);
    }
  }

  static byte[] encodeAllocation(Allocation a) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(ALLOCATION_MAGIC);
      out.writeLong(a.term());
      out.writeLong(a.version());
      out.writeLong(a.issuedAtMillis());
      out.writeInt(a.budgets().size());
      for (Map.Entry<String, Allocation.BudgetLeases> e : a.budgets().entrySet()) {
        Allocation.BudgetLeases bl = e.getValue();
        out.writeUTF(e.getKey());
        out.writeLong(bl.period());
        out.writeLong(bl.periodEndMillis());
        writeDegradation(out, bl.degradation());
        out.writeInt(bl.leases().size());
        for (Map.Entry<BoxId, Lease> le : bl.leases().entrySet()) {
          out.writeUTF(le.getKey().region());
          out.writeUTF(le.getKey().name());
          writeLease(out, le.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Allocation decodeAllocation(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      magic(in, ALLOCATION_MAGIC, "allocation");
      long term = in.readLong();
      long version = in.readLong();
      long issuedAt = in.readLong();
      int budgets = count(in, "budgets");
      Map<String, Allocation.BudgetLeases> m = new HashMap<>();
      for (int i = 0; i < budgets; i++) {
        String id = in.readUTF();
        long period = in.readLong();
        long periodEnd = in.readLong();
        Degradation d = readDegradation(in);
        int leases = count(in, "leases");
        Map<BoxId, Lease> lm = new HashMap<>();
        for (int k = 0; k < leases; k++) {
          BoxId box = new BoxId(in.readUTF(), in.readUTF());
          lm.put(box, readLease(in));
        }
        m.put(id, new Allocation.BudgetLeases(period, periodEnd, d, lm));
      }
      end(in, "allocation");
      return new Allocation(term, version, issuedAt, m);
    } catch (IOException | IllegalArgumentException e) {
      throw new PacingException("malformed allocation (" + data.length + " bytes): " + e.getMessage(), false, e);
    }
  }

  /** A report's own fields (all but the box and the send time, which a batch shares). */
  static void writeCounters(DataOutputStream out, SpendReport r) throws IOException {
    out.writeUTF(r.budgetId());
    out.writeLong(r.period());
    out.writeLong(r.spentMicros());
    out.writeLong(r.refundedMicros());
    out.writeLong(r.fedMicros());
    out.writeLong(r.reclaimedMicros());
    out.writeLong(r.opportunities());
    out.writeLong(r.wantedMicros());
    out.writeLong(r.leaseEpoch());
    out.writeBoolean(r.leaving());
  }

  static SpendReport readCounters(DataInputStream in, BoxId box, long sentAtMillis) throws IOException {
    return new SpendReport(box, in.readUTF(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
        in.readLong(), in.readLong(), in.readLong(), in.readLong(), sentAtMillis, in.readBoolean());
  }

  static void writeLease(DataOutputStream out, Lease l) throws IOException {
    out.writeLong(l.epoch());
    out.writeLong(l.grantedMicros());
    out.writeLong(l.rateMicrosPerSecond());
    out.writeLong(l.burstMicros());
    out.writeLong(l.freshUntilMillis());
    out.writeLong(l.stopAtMillis());
  }

  static Lease readLease(DataInputStream in) throws IOException {
    return new Lease(in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
  }

  static void writeDegradation(DataOutputStream out, Degradation d) throws IOException {
    switch (d) {
      case Degradation.Stop s -> {
        out.writeByte(0);
        out.writeLong(0);
      }
      case Degradation.LastRate l -> {
        out.writeByte(1);
        out.writeLong(0);
      }
      case Degradation.SafeRate r -> {
        out.writeByte(2);
        out.writeLong(r.microsPerSecond());
      }
    }
  }

  static Degradation readDegradation(DataInputStream in) throws IOException {
    int kind = in.readByte();
    long rate = in.readLong();
    return switch (kind) {
      case 0 -> Degradation.STOP;
      case 1 -> Degradation.LAST_RATE;
      case 2 -> new Degradation.SafeRate(rate);
      default -> throw new IllegalArgumentException("unknown degradation kind " + kind);
    };
  }

  private static void magic(DataInputStream in, int expected, String what) throws IOException {
    int m = in.readInt();
    if (m != expected) {
      throw new IllegalArgumentException("not a Hardway " + what + " v1 (magic 0x" + Integer.toHexString(m) + ")");
    }
  }

  private static int count(DataInputStream in, String what) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_ITEMS) {
      throw new IllegalArgumentException(what + " count " + n + " is outside 0.." + MAX_ITEMS);
    }
    return n;
  }

  private static void end(DataInputStream in, String what) throws IOException {
    if (in.read() != -1) {
      throw new IllegalArgumentException("trailing bytes after the " + what);
    }
  }
}
