package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The guardian process of one handler: holds a copy of the pager's userfaultfd, learns the mapped ranges as objects
 * are opened and closed, and waits (in {@code poll} on pidfds) for the handler to die; then it poisons every missing
 * page of every range, so that readers blocked on faults get {@link InternalError} and any safepoint they were holding
 * up can complete.
 *
 * <p>Why a process of its own: when the handler dies while a reader is blocked on a fault and a safepoint has begun,
 * every Java thread of the application is stopped, its exit watcher included; only a process outside that JVM can
 * unblock the reader. It exits when the application or the handler ends, or when its standard input closes.
 */
public final class GuardianMain {
  /** A range is added: base and length follow. */
  static final byte ADD = 1;
  /** A range is removed: base follows. */
  static final byte REMOVE = 2;

  private GuardianMain() { }

  /**
   * Runs the guardian; reads the application's pid, its userfaultfd number and the handler's pid, then range updates,
   * from standard input.
   *
   * @param args none
   * @throws IOException when standard input is unreadable
   */
  public static void main(String[] args) throws IOException {
    PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
    DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
    long parentPid = in.readLong();
    int remoteFd = in.readInt();
    long handlerPid = in.readLong();
    int fd = Linux.takeFd(parentPid, remoteFd);
    int parent = (int) Linux.syscall(Linux.SYS_PIDFD_OPEN, parentPid, 0, 0);
    int handler = (int) Linux.syscall(Linux.SYS_PIDFD_OPEN, handlerPid, 0, 0);
    if (fd < 0 || parent < 0 || handler < 0) {
      err.println("s3pager guardian: cannot watch handler " + handlerPid + ": " + Linux.errnoName(Linux.errno()));
      System.out.write('F');
      System.out.flush();
      Runtime.getRuntime().halt(3);
    }
    // The application waits for this before it withdraws its ptrace permission.
    System.out.write('R');
    System.out.flush();
    Map<Long, Long> ranges = new ConcurrentHashMap<>();
    Thread.ofPlatform().daemon().start(() -> {
      try {
        while (true) {
          byte op = in.readByte();
          if (op == ADD) {
            long base = in.readLong();
            ranges.put(base, in.readLong());
          } else if (op == REMOVE) {
            ranges.remove(in.readLong());
          } else {
            err.println("s3pager guardian: unknown update " + op);
            Runtime.getRuntime().halt(2);
          }
        }
      } catch (IOException e) {
        // End of input: the pager closed (or the application died); nothing left to guard.
        Runtime.getRuntime().halt(0);
      }
    });
    Arena arena = Arena.ofConfined();
    MemorySegment fds = arena.allocate(Linux.POLLFD, 2);
    fds.set(JAVA_INT, 0, handler);
    fds.set(JAVA_SHORT, 4, Linux.POLLIN);
    fds.set(JAVA_INT, 8, parent);
    fds.set(JAVA_SHORT, 12, Linux.POLLIN);
    while (true) {
      int ready = Linux.poll(fds, 2, -1);
      if (ready <= 0) {
        continue;
      }
      if (fds.get(JAVA_SHORT, 14) != 0) {
        Runtime.getRuntime().halt(0);
      }
      if (fds.get(JAVA_SHORT, 6) != 0) {
        Uffd uffd = new Uffd(fd);
        int poisoned = 0;
        for (Map.Entry<Long, Long> r : ranges.entrySet()) {
          if (uffd.poisonMissing(r.getKey(), r.getValue()) == 0) {
            poisoned++;
          }
        }
        err.println("s3pager guardian: handler " + handlerPid + " died; poisoned the missing pages of " + poisoned
            + " of " + ranges.size() + " objects of application " + parentPid);
        Runtime.getRuntime().halt(0);
      }
    }
  }
}
