package dev.hardway.benchmarks.procache;

import java.util.SplittableRandom;

/**
 * YCSB's scrambled Zipfian key chooser (Gray et al., "Quickly generating billion-record synthetic databases"):
 * item ranks drawn with skew theta, then scattered over the key space by a 64-bit FNV-1a hash so that the popular
 * keys are not neighbours.
 */
final class ScrambledZipfian {
  private final long items;
  private final double theta;
  private final double zetan;
  private final double alpha;
  private final double eta;
  private final SplittableRandom random;

  ScrambledZipfian(long items, double theta, long seed) {
    this.items = items;
    this.theta = theta;
    this.random = new SplittableRandom(seed);
    this.zetan = zeta(items, theta);
    double zeta2 = zeta(2, theta);
    this.alpha = 1.0 / (1.0 - theta);
    this.eta = (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2 / zetan);
  }

  private static double zeta(long n, double theta) {
    double sum = 0;
    for (long i = 1; i <= n; i++) {
      sum += 1 / Math.pow(i, theta);
    }
    return sum;
  }

  /** The next key, 0 to items - 1. */
  long next() {
    double u = random.nextDouble();
    double uz = u * zetan;
    long rank;
    if (uz < 1.0) {
      rank = 0;
    } else if (uz < 1.0 + Math.pow(0.5, theta)) {
      rank = 1;
    } else {
      rank = (long) (items * Math.pow(eta * u - eta + 1, alpha));
    }
    return Math.floorMod(fnv(rank), items);
  }

  private static long fnv(long value) {
    long hash = 0xCBF29CE484222325L;
    for (int i = 0; i < 8; i++) {
      hash ^= (value >>> (i * 8)) & 0xFF;
      hash *= 0x100000001B3L;
    }
    return hash;
  }
}
