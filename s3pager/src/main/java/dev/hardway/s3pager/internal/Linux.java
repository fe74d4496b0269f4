package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls the pager needs, bound with the FFM API, each returning the raw result and leaving the
 * caller's {@code errno} in {@link #errno()} (captured by the linker, so the JVM's own calls cannot overwrite it).
 *
 * <p>Numbers are for Linux x86-64 (syscalls) and the generic ioctl encoding, as verified on kernel 6.18.
 */
// Binding libc is what this class is for; the module's README names the --enable-native-access flag it needs.
@SuppressWarnings("restricted")
public final class Linux {
  /** {@code O_RDWR}. */
  public static final int O_RDWR = 2;
  /** {@code O_NONBLOCK}. */
  public static final int O_NONBLOCK = 0x800;
  /** {@code O_CLOEXEC}. */
  public static final int O_CLOEXEC = 0x80000;
  /** {@code PROT_READ}. */
  public static final int PROT_READ = 1;
  /** {@code PROT_WRITE}. */
  public static final int PROT_WRITE = 2;
  /** {@code MAP_PRIVATE}. */
  public static final int MAP_PRIVATE = 2;
  /** {@code MAP_ANONYMOUS}. */
  public static final int MAP_ANONYMOUS = 0x20;
  /** {@code MAP_NORESERVE}. */
  public static final int MAP_NORESERVE = 0x4000;
  /** {@code MADV_DONTNEED}. */
  public static final int MADV_DONTNEED = 4;
  /** {@code POLLIN}. */
  public static final short POLLIN = 1;

  /** {@code EPERM}. */
  public static final int EPERM = 1;
  /** {@code ENOENT}. */
  public static final int ENOENT = 2;
  /** {@code ESRCH}. */
  public static final int ESRCH = 3;
  /** {@code EINTR}. */
  public static final int EINTR = 4;
  /** {@code EAGAIN}. */
  public static final int EAGAIN = 11;
  /** {@code ENOMEM}. */
  public static final int ENOMEM = 12;
  /** {@code EACCES}. */
  public static final int EACCES = 13;
  /** {@code EFAULT}. */
  public static final int EFAULT = 14;
  /** {@code EEXIST}. */
  public static final int EEXIST = 17;
  /** {@code EINVAL}. */
  public static final int EINVAL = 22;
  /** {@code ENOSYS}. */
  public static final int ENOSYS = 38;

  /** {@code __NR_userfaultfd}: 323 on x86-64, 282 on aarch64 (the generic table). */
  public static final long SYS_USERFAULTFD = "aarch64".equals(System.getProperty("os.arch")) ? 282 : 323;
  /** {@code __NR_prctl}: 157 on x86-64, 167 on aarch64. */
  public static final long SYS_PRCTL = "aarch64".equals(System.getProperty("os.arch")) ? 167 : 157;
  /** {@code PR_SET_PTRACER} (Yama). */
  public static final long PR_SET_PTRACER = 0x59616d61L;
  /** {@code __NR_pidfd_open} (the same on every architecture). */
  public static final long SYS_PIDFD_OPEN = 434;
  /** {@code __NR_pidfd_getfd} (the same on every architecture). */
  public static final long SYS_PIDFD_GETFD = 438;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

  private static final MethodHandle SYSCALL = bind("syscall",
      FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
  private static final MethodHandle IOCTL_PTR = bind("ioctl",
      FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
  private static final MethodHandle IOCTL_LONG = bind("ioctl",
      FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
  private static final MethodHandle OPEN = bind("open",
      FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
  private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle MMAP = bind("mmap",
      FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
  private static final MethodHandle MUNMAP = bind("munmap",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
  private static final MethodHandle MADVISE = bind("madvise",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
  private static final MethodHandle MINCORE = bind("mincore",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS), -1);
  private static final MethodHandle POLL = bind("poll",
      FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), -1);
  private static final MethodHandle READ = bind("read",
      FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);

  /** The size of a page; the pager assumes 4 KiB base pages and checks it. */
  public static final long PAGE_SIZE = 4096;

  private static final ThreadLocal<MemorySegment> STATE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

  private Linux() { }

  private static MethodHandle bind(String name, FunctionDescriptor descriptor, int firstVariadic) {
    MemorySegment symbol = LIBC.find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    Linker.Option[] options = firstVariadic < 0
        ? new Linker.Option[] {ERRNO_OPTION}
        : new Linker.Option[] {ERRNO_OPTION, Linker.Option.firstVariadicArg(firstVariadic)};
    return LINKER.downcallHandle(symbol, descriptor, options);
  }

  private static MemorySegment state() {
    return STATE.get();
  }

  /**
   * The {@code errno} the calling thread's last call through this class left.
   *
   * @return the error number
   */
  public static int errno() {
    return (int) ERRNO.get(state(), 0L);
  }

  /**
   * {@code syscall(nr, a, b, c)}; every argument is passed as a 64-bit value, as the kernel reads them.
   *
   * @param nr the syscall number
   * @param a the first argument
   * @param b the second argument
   * @param c the third argument
   * @return the raw result, -1 on error
   */
  public static long syscall(long nr, long a, long b, long c) {
    try {
      return (long) SYSCALL.invokeExact(state(), nr, a, b, c);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code ioctl(fd, request, pointer)}.
   *
   * @param fd the file descriptor
   * @param request the request number
   * @param arg the argument structure
   * @return the raw result, -1 on error
   */
  public static int ioctl(int fd, long request, MemorySegment arg) {
    try {
      return (int) IOCTL_PTR.invokeExact(state(), fd, request, arg);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code ioctl(fd, request, value)} for requests that take an integer, not a pointer.
   *
   * @param fd the file descriptor
   * @param request the request number
   * @param value the integer argument
   * @return the raw result, -1 on error
   */
  public static int ioctl(int fd, long request, long value) {
    try {
      return (int) IOCTL_LONG.invokeExact(state(), fd, request, value);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code open(path, flags)}.
   *
   * @param path the path
   * @param flags the flags
   * @return the descriptor, -1 on error
   */
  public static int open(String path, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      return (int) OPEN.invokeExact(state(), arena.allocateFrom(path), flags, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code close(fd)}.
   *
   * @param fd the descriptor
   * @return 0, or -1 on error
   */
  public static int close(int fd) {
    try {
      return (int) CLOSE.invokeExact(state(), fd);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code mmap(NULL, length, prot, flags, -1, 0)}.
   *
   * @param length bytes
   * @param prot protection bits
   * @param flags mapping flags
   * @return the address, or -1 on error
   */
  public static long mmapAnonymous(long length, int prot, int flags) {
    try {
      return (long) MMAP.invokeExact(state(), 0L, length, prot, flags, -1, 0L);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code munmap(address, length)}.
   *
   * @param address the start
   * @param length bytes
   * @return 0, or -1 on error
   */
  public static int munmap(long address, long length) {
    try {
      return (int) MUNMAP.invokeExact(state(), address, length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code madvise(address, length, advice)}.
   *
   * @param address the start, page aligned
   * @param length bytes
   * @param advice the advice
   * @return 0, or -1 on error
   */
  public static int madvise(long address, long length, int advice) {
    try {
      return (int) MADVISE.invokeExact(state(), address, length, advice);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code mincore(address, length, vector)}: which pages of this process's mapping are present.
   *
   * @param address the start, page aligned
   * @param length bytes
   * @param vector one byte per page; bit 0 set when resident
   * @return 0, or -1 on error
   */
  public static int mincore(long address, long length, MemorySegment vector) {
    try {
      return (int) MINCORE.invokeExact(state(), address, length, vector);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** The layout of {@code struct pollfd}. */
  public static final MemoryLayout POLLFD = MemoryLayout.structLayout(
      JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));

  /**
   * {@code poll(fds, n, timeout)}.
   *
   * @param fds an array of {@link #POLLFD}
   * @param count how many
   * @param timeoutMillis the timeout; -1 waits forever
   * @return how many are ready, 0 on timeout, -1 on error
   */
  public static int poll(MemorySegment fds, long count, int timeoutMillis) {
    try {
      return (int) POLL.invokeExact(state(), fds, count, timeoutMillis);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code read(fd, buffer, length)}.
   *
   * @param fd the descriptor
   * @param buffer where to
   * @param length at most this many bytes
   * @return bytes read, 0 at end, -1 on error
   */
  public static long read(int fd, MemorySegment buffer, long length) {
    try {
      return (long) READ.invokeExact(state(), fd, buffer, length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Takes a copy of another process's file descriptor with {@code pidfd_open} and {@code pidfd_getfd}; needs
   * {@code PTRACE_MODE_ATTACH} rights over that process.
   *
   * @param pid the process
   * @param fd its descriptor
   * @return a descriptor in this process, or -1 with {@link #errno()} set
   */
  public static int takeFd(long pid, int fd) {
    int pidfd = (int) syscall(SYS_PIDFD_OPEN, pid, 0, 0);
    if (pidfd < 0) {
      return -1;
    }
    int taken = (int) syscall(SYS_PIDFD_GETFD, pidfd, fd, 0);
    int saved = errno();
    close(pidfd);
    if (taken < 0) {
      ERRNO.set(state(), 0L, saved);
    }
    return taken;
  }

  /**
   * Lets one process (a child: the handler or the guardian) take this process's descriptors where Yama's
   * {@code ptrace_scope=1} allows only ancestors to; 0 withdraws it. Without Yama the call fails, harmlessly.
   *
   * @param pid the process, or 0
   */
  public static void allowPtracer(long pid) {
    syscall(SYS_PRCTL, PR_SET_PTRACER, pid, 0);
  }

  /**
   * A short name for an error number, for messages.
   *
   * @param errno the number
   * @return e.g. {@code "EPERM (1)"}
   */
  public static String errnoName(int errno) {
    String name = switch (errno) {
      case EPERM -> "EPERM";
      case ENOENT -> "ENOENT";
      case ESRCH -> "ESRCH";
      case EINTR -> "EINTR";
      case EAGAIN -> "EAGAIN";
      case ENOMEM -> "ENOMEM";
      case EACCES -> "EACCES";
      case EFAULT -> "EFAULT";
      case EEXIST -> "EEXIST";
      case EINVAL -> "EINVAL";
      case ENOSYS -> "ENOSYS";
      default -> "errno";
    };
    return name + " (" + errno + ")";
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException(t);
  }
}
