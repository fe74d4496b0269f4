package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.DataInputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The guardian process: holds a copy of the application's userfaultfd and waits (in {@code poll} on pidfds) for the
 * handler process to die; then it poisons every missing page, so that readers blocked on faults get
 * {@link InternalError} and any safepoint they were holding up can complete.
 *
 * <p>Why a process of its own: when the handler dies while a reader is blocked on a fault and a safepoint has begun,
 * every Java thread of the application is stopped, its exit watcher included; only a process outside that JVM can
 * unblock the reader. It exits when the application or the handler ends, or when its standard input closes.
 */
public final class GuardianMain {
  private GuardianMain() { }

  /**
   * Runs the guardian; reads the application's pid, its userfaultfd number, the handler's pid and the mapped range
   * from standard input.
   *
   * @param args none
   * @throws Exception when standard input is unreadable
   */
  public static void main(String[] args) throws Exception {
    PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
    DataInputStream in = new DataInputStream(System.in);
    long parentPid = in.readLong();
    int remoteFd = in.readInt();
    long handlerPid = in.readLong();
    long base = in.readLong();
    long length = in.readLong();
    int fd = Linux.takeFd(parentPid, remoteFd);
    int parent = (int) Linux.syscall(Linux.SYS_PIDFD_OPEN, parentPid, 0, 0);
    int handler = (int) Linux.syscall(Linux.SYS_PIDFD_OPEN, handlerPid, 0, 0);
    if (fd < 0 || parent < 0 || handler < 0) {
      err.println("s3pager guardian: cannot watch handler " + handlerPid + ": " + Linux.errnoName(Linux.errno()));
      System.out.println("FAILED");
      Runtime.getRuntime().halt(3);
    }
    System.out.println("READY");
    System.out.flush();
    Thread.ofPlatform().daemon().start(() -> {
      try {
        // End of input: the application closed the object (or died); nothing left to guard.
        while (System.in.read() >= 0) {
          continue;
        }
      } catch (java.io.IOException e) {
        // Same.
      }
      Runtime.getRuntime().halt(0);
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
        int result = new Uffd(fd).poisonMissing(base, length);
        err.println("s3pager guardian: handler " + handlerPid + " died; poisoned the missing pages of application "
            + parentPid + (result == 0 ? "" : " (" + Linux.errnoName(result) + ")"));
        Runtime.getRuntime().halt(0);
      }
    }
  }
}
