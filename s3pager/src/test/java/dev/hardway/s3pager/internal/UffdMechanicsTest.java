package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The kernel mechanics on this machine: a region registered here, its faults served by another process. */
@SuppressWarnings("restricted")
class UffdMechanicsTest {

  @Test
  void faultsInThisJvm_areServedByAChildProcess_andPoisonTurnsIntoInternalError() throws Exception {
    Uffd.Created created = Uffd.create(true);
    assertThat(created.fd()).as(created.error()).isNotNegative();
    Uffd uffd = new Uffd(created.fd());
    assertThat(uffd.api()).isZero();
    long length = 64 * Linux.PAGE_SIZE;
    long base = Linux.mmapAnonymous(length, Linux.PROT_READ, Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS);
    assertThat(base).isNotEqualTo(-1L);
    assertThat(uffd.registerMissing(base, length)).isZero();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), PageServerChild.class.getName(),
        Long.toString(ProcessHandle.current().pid()), Integer.toString(uffd.fd()), Long.toString(base))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("READY");
      MemorySegment region = MemorySegment.ofAddress(base).reinterpret(length);
      // The first 32 pages through the child; the rest poisoned from here.
      long half = length / 2;
      for (long i = 0; i < half; i++) {
        assertThat(region.get(JAVA_BYTE, i)).isEqualTo((byte) (i * 31 + 7));
      }
      assertThat(uffd.poisonMissingLocal(base, length)).isZero();
      assertThat(region.get(JAVA_BYTE, 5)).isEqualTo((byte) (5 * 31 + 7));
      assertThatThrownBy(() -> region.get(JAVA_BYTE, half + 1)).isInstanceOf(InternalError.class);
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(uffd.unregister(base, length)).isZero();
    assertThat(Linux.munmap(base, length)).isZero();
    uffd.close();
  }
}
