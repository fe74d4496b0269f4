package dev.hardway.logtiers;

import java.time.Duration;
import java.util.Objects;

/** The option checks the builders share: each error names the option and the value received. */
final class Options {
  private Options() {}

  /** The duration, if within [min, max]. */
  static Duration within(String option, Duration value, Duration min, Duration max) {
    Objects.requireNonNull(value, option);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  /** A ring capacity: a power of two from 64 KiB to 1 GiB. */
  static int ringBytes(int value) {
    if (value < (64 << 10) || value > (1 << 30) || Integer.bitCount(value) != 1) {
      throw new IllegalArgumentException("ringBytes must be a power of two from 64 KiB to 1 GiB, got " + value);
    }
    return value;
  }

  /** A valid S3 bucket name. */
  static String bucket(String option, String bucket) {
    Objects.requireNonNull(bucket, option);
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException(option + " must be a valid S3 bucket name, got '" + bucket + "'");
    }
    return bucket;
  }
}
