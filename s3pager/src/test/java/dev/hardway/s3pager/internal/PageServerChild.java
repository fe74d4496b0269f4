package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A bare fault server for the mechanics test: takes the parent's userfaultfd with pidfd_getfd and answers every
 * missing-page fault with a page whose bytes are {@code (offset * 31 + 7) & 0xff}.
 */
public final class PageServerChild {
  private PageServerChild() { }

  public static void main(String[] args) {
    long pid = Long.parseLong(args[0]);
    int remoteFd = Integer.parseInt(args[1]);
    long base = Long.parseLong(args[2]);
    int fd = Linux.takeFd(pid, remoteFd);
    if (fd < 0) {
      System.out.println("TAKE-FAILED " + Linux.errnoName(Linux.errno()));
      System.exit(2);
    }
    Uffd uffd = new Uffd(fd);
    System.out.println("READY");
    System.out.flush();
    Arena arena = Arena.ofConfined();
    MemorySegment page = arena.allocate(Linux.PAGE_SIZE, Linux.PAGE_SIZE);
    MemorySegment msgs = arena.allocate(Uffd.MSG_SIZE * 16L, 8);
    MemorySegment pfd = arena.allocate(Linux.POLLFD);
    pfd.set(JAVA_INT, 0, fd);
    pfd.set(JAVA_SHORT, 4, Linux.POLLIN);
    while (true) {
      if (Linux.poll(pfd, 1, 1000) <= 0) {
        continue;
      }
      long n = Linux.read(fd, msgs, msgs.byteSize());
      for (long i = 0; i + Uffd.MSG_SIZE <= n; i += Uffd.MSG_SIZE) {
        if (msgs.get(JAVA_BYTE, i) != Uffd.EVENT_PAGEFAULT) {
          continue;
        }
        long address = msgs.get(JAVA_LONG, i + 16) & -Linux.PAGE_SIZE;
        long offset = address - base;
        for (int b = 0; b < Linux.PAGE_SIZE; b++) {
          page.set(JAVA_BYTE, b, (byte) ((offset + b) * 31 + 7));
        }
        int err = uffd.copy(address, page.address(), Linux.PAGE_SIZE);
        if (err != 0) {
          System.out.println("COPY-FAILED " + Linux.errnoName(err));
        }
      }
    }
  }
}
