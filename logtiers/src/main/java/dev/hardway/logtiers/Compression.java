package dev.hardway.logtiers;

/** How the S3 tiers compress an object; the file name extension says which was used. */
public enum Compression {
  /**
   * zstd (level 1 by default): a ratio of 3.1 on the mid tier's ad-log-like objects, 4.7 on the bare records
   * ({@code MidTierThroughputBenchmark}, benchmarks/README.md).
   */
  ZSTD("zst"),
  /** gzip (level 1): slower and larger than zstd, for readers that know nothing else. */
  GZIP("gz");

  private final String extension;

  Compression(String extension) {
    this.extension = extension;
  }

  /**
   * The object key's extension, without the dot.
   *
   * @return {@code zst} or {@code gz}
   */
  public String extension() {
    return extension;
  }

  /**
   * The compression whose extension this is.
   *
   * @param extension {@code zst} or {@code gz}
   * @return the compression
   * @throws IllegalArgumentException for any other extension, naming it
   */
  public static Compression ofExtension(String extension) {
    for (Compression c : values()) {
      if (c.extension.equals(extension)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown compression extension '" + extension + "' (expected zst or gz)");
  }
}
