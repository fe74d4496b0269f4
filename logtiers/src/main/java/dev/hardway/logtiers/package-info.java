/**
 * Tiered event logs. Build one {@link dev.hardway.logtiers.LogTiers} per process, route each log type to one or more
 * {@link dev.hardway.logtiers.Tier}s, and append through a {@link dev.hardway.logtiers.LogType}: the record lands in a
 * bounded off-heap ring and background threads deliver it — to Kinesis (low), through a local journal to the main
 * bucket (mid), or through a local spool to the source-region bucket (high). {@link dev.hardway.logtiers.LogRecords}
 * reads the record framing back; {@link dev.hardway.logtiers.ObjectKeys} builds and parses the S3 object keys.
 */
@NullMarked
package dev.hardway.logtiers;

import org.jspecify.annotations.NullMarked;
