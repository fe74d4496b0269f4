package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A userfaultfd: the ioctls the pager uses, on a descriptor that may belong to this process's own memory (the
 * application) or another's (the handler process, which took it with {@code pidfd_getfd}). Structures and numbers
 * as verified on kernel 6.18 x86-64; {@code UFFDIO_POISON} is computed from the kernel's ioctl encoding because older
 * headers lack it.
 */
public final class Uffd {
  /** {@code UFFD_API}. */
  static final long API = 0xAA;
  /** {@code UFFDIO_API}. */
  static final long IOC_API = 0xC018AA3FL;
  /** {@code UFFDIO_REGISTER}. */
  static final long IOC_REGISTER = 0xC020AA00L;
  /** {@code UFFDIO_UNREGISTER}. */
  static final long IOC_UNREGISTER = 0x8010AA01L;
  /** {@code UFFDIO_WAKE}. */
  static final long IOC_WAKE = 0x8010AA02L;
  /** {@code UFFDIO_COPY}. */
  static final long IOC_COPY = 0xC028AA03L;
  /** {@code UFFDIO_POISON}. */
  static final long IOC_POISON = 0xC020AA08L;
  /** {@code USERFAULTFD_IOC_NEW} on {@code /dev/userfaultfd}; takes the flags as an integer. */
  static final long IOC_NEW = 0xAA00L;
  /** {@code UFFD_USER_MODE_ONLY}. */
  public static final int USER_MODE_ONLY = 1;
  /** {@code UFFDIO_REGISTER_MODE_MISSING}. */
  static final long MODE_MISSING = 1;
  /** {@code UFFD_FEATURE_POISON}. */
  static final long FEATURE_POISON = 1L << 14;
  /** {@code UFFD_EVENT_PAGEFAULT}. */
  public static final byte EVENT_PAGEFAULT = 0x12;
  /** The size of {@code struct uffd_msg}. */
  public static final int MSG_SIZE = 32;

  private static final ThreadLocal<MemorySegment> ARGS =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(48, 8));

  private final int fd;

  /**
   * Wraps a descriptor.
   *
   * @param fd an open userfaultfd
   */
  public Uffd(int fd) {
    this.fd = fd;
  }

  /**
   * The descriptor.
   *
   * @return the fd number
   */
  public int fd() {
    return fd;
  }

  /**
   * How a userfaultfd was obtained, or why not.
   *
   * @param fd the descriptor, or -1
   * @param how which way worked
   * @param errno the last error when none did
   * @param error every attempt's error, for the log
   */
  public record Created(int fd, String how, int errno, String error) {}

  /**
   * Creates a userfaultfd for this process's memory, trying the syscall, then {@code /dev/userfaultfd}, then user-mode
   * only faults (all that {@code vm.unprivileged_userfaultfd=0} allows an unprivileged process).
   *
   * @param allowUserModeOnly whether to accept {@code UFFD_USER_MODE_ONLY}
   * @return the descriptor and how it was made, or {@code fd = -1} and the last error
   */
  public static Created create(boolean allowUserModeOnly) {
    int flags = Linux.O_CLOEXEC | Linux.O_NONBLOCK;
    int fd = (int) Linux.syscall(Linux.SYS_USERFAULTFD, flags, 0, 0);
    if (fd >= 0) {
      return new Created(fd, "userfaultfd()", 0, "");
    }
    int first = Linux.errno();
    StringBuilder why = new StringBuilder("userfaultfd() failed with ").append(Linux.errnoName(first));
    int dev = Linux.open("/dev/userfaultfd", Linux.O_RDWR | Linux.O_CLOEXEC);
    if (dev >= 0) {
      fd = Linux.ioctl(dev, IOC_NEW, flags);
      int err = Linux.errno();
      Linux.close(dev);
      if (fd >= 0) {
        return new Created(fd, "/dev/userfaultfd", 0, "");
      }
      why.append("; USERFAULTFD_IOC_NEW failed with ").append(Linux.errnoName(err));
    } else {
      why.append("; opening /dev/userfaultfd failed with ").append(Linux.errnoName(Linux.errno()));
    }
    int last = first;
    if (allowUserModeOnly) {
      fd = (int) Linux.syscall(Linux.SYS_USERFAULTFD, flags | USER_MODE_ONLY, 0, 0);
      if (fd >= 0) {
        return new Created(fd, "userfaultfd(UFFD_USER_MODE_ONLY)", 0, "");
      }
      last = Linux.errno();
      why.append("; userfaultfd(UFFD_USER_MODE_ONLY) failed with ").append(Linux.errnoName(last));
    }
    return new Created(-1, "", last, why.toString());
  }

  /**
   * {@code UFFDIO_API} with the poison feature (once per descriptor).
   *
   * @return 0, or the errno
   */
  public int api() {
    MemorySegment a = ARGS.get();
    a.fill((byte) 0);
    a.set(JAVA_LONG, 0, API);
    a.set(JAVA_LONG, 8, FEATURE_POISON);
    return Linux.ioctl(fd, IOC_API, a) == 0 ? 0 : Linux.errno();
  }

  /**
   * {@code UFFDIO_REGISTER} for missing-page faults.
   *
   * @param start page-aligned start
   * @param length page-multiple length
   * @return 0, or the errno
   */
  public int registerMissing(long start, long length) {
    MemorySegment a = ARGS.get();
    a.fill((byte) 0);
    a.set(JAVA_LONG, 0, start);
    a.set(JAVA_LONG, 8, length);
    a.set(JAVA_LONG, 16, MODE_MISSING);
    return Linux.ioctl(fd, IOC_REGISTER, a) == 0 ? 0 : Linux.errno();
  }

  /**
   * {@code UFFDIO_UNREGISTER}.
   *
   * @param start page-aligned start
   * @param length page-multiple length
   * @return 0, or the errno
   */
  public int unregister(long start, long length) {
    MemorySegment a = ARGS.get();
    a.set(JAVA_LONG, 0, start);
    a.set(JAVA_LONG, 8, length);
    return Linux.ioctl(fd, IOC_UNREGISTER, a) == 0 ? 0 : Linux.errno();
  }

  /**
   * {@code UFFDIO_WAKE}: lets threads waiting on faults in the range re-fault.
   *
   * @param start page-aligned start
   * @param length page-multiple length
   * @return 0, or the errno
   */
  public int wake(long start, long length) {
    MemorySegment a = ARGS.get();
    a.set(JAVA_LONG, 0, start);
    a.set(JAVA_LONG, 8, length);
    return Linux.ioctl(fd, IOC_WAKE, a) == 0 ? 0 : Linux.errno();
  }

  /**
   * Installs {@code length} bytes at {@code dst} from {@code src} (this process's memory) with {@code UFFDIO_COPY},
   * resuming after partial copies; pages already present are skipped (EEXIST counts as done) and waiters woken.
   *
   * @param dst page-aligned destination in the registered range
   * @param src source address in this process
   * @param length page-multiple length
   * @return 0, or the errno of the failure
   */
  public int copy(long dst, long src, long length) {
    MemorySegment a = ARGS.get();
    long done = 0;
    while (done < length) {
      a.set(JAVA_LONG, 0, dst + done);
      a.set(JAVA_LONG, 8, src + done);
      a.set(JAVA_LONG, 16, length - done);
      a.set(JAVA_LONG, 24, 0L);
      a.set(JAVA_LONG, 32, 0L);
      if (Linux.ioctl(fd, IOC_COPY, a) == 0) {
        return 0;
      }
      int err = Linux.errno();
      long copied = a.get(JAVA_LONG, 32);
      if (err == Linux.EAGAIN && copied > 0) {
        // A partial copy: resume at dst + copied (the kernel stops at e.g. a pending REMOVE event or a signal).
        done += copied;
      } else if (err == Linux.EAGAIN) {
        Thread.onSpinWait();
      } else if (err == Linux.EEXIST) {
        // A page in the way is present already (a race with another install): wake its waiters, skip it.
        long at = copied > 0 ? done + copied : done;
        wake(dst + at, Linux.PAGE_SIZE);
        done = at + Linux.PAGE_SIZE;
      } else {
        return err;
      }
    }
    return 0;
  }

  /**
   * Marks every missing page of the range poisoned ({@code UFFDIO_POISON}): a later access, or a thread waiting on a
   * fault there (woken), gets {@code SIGBUS}, which the JVM turns into an {@link InternalError} for
   * {@code MemorySegment} accesses. Present pages are left alone.
   *
   * @param start page-aligned start
   * @param length page-multiple length
   * @return 0, or the errno of a failure other than present pages
   */
  public int poisonMissing(long start, long length) {
    MemorySegment a = ARGS.get();
    long done = 0;
    while (done < length) {
      a.set(JAVA_LONG, 0, start + done);
      a.set(JAVA_LONG, 8, length - done);
      a.set(JAVA_LONG, 16, 0L);
      a.set(JAVA_LONG, 24, 0L);
      if (Linux.ioctl(fd, IOC_POISON, a) == 0) {
        return 0;
      }
      int err = Linux.errno();
      long updated = a.get(JAVA_LONG, 24);
      if (err == Linux.EAGAIN && updated > 0) {
        done += updated;
      } else if (err == Linux.EEXIST) {
        done += Linux.PAGE_SIZE;
      } else if (err == Linux.EAGAIN) {
        Thread.onSpinWait();
      } else {
        return err;
      }
    }
    return 0;
  }

  /**
   * Poisons the missing pages of a range of this process's own mapping, skipping present pages found with
   * {@code mincore} (one call per page would cost hundreds of thousands of ioctls for a resident gigabyte).
   *
   * @param start page-aligned start
   * @param length page-multiple length
   * @return 0, or the errno of the first failure
   */
  public int poisonMissingLocal(long start, long length) {
    long pages = length / Linux.PAGE_SIZE;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment vector = arena.allocate(Math.max(1, pages));
      if (Linux.mincore(start, length, vector) != 0) {
        return poisonMissing(start, length);
      }
      long p = 0;
      int result = 0;
      while (p < pages) {
        if ((vector.get(JAVA_BYTE, p) & 1) != 0) {
          p++;
          continue;
        }
        long run = p;
        while (run < pages && (vector.get(JAVA_BYTE, run) & 1) == 0) {
          run++;
        }
        int err = poisonMissing(start + p * Linux.PAGE_SIZE, (run - p) * Linux.PAGE_SIZE);
        if (err != 0 && result == 0) {
          result = err;
        }
        p = run;
      }
      return result;
    }
  }

  /** Closes the descriptor. */
  public void close() {
    Linux.close(fd);
  }
}
