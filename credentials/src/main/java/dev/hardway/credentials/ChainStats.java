package dev.hardway.credentials;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of a {@link HardwayCredentialsProvider}. It holds no secret.
 *
 * @param source the source the current credentials came from, or {@code null} when none are held
 * @param expiration when they expire, or {@code null} when they do not (long-term keys) or none are held
 * @param age how long ago they were resolved, or {@code null} when none are held
 * @param refreshes successful resolutions since start
 * @param failures resolutions in which no source worked
 * @param lastError what every source said the last time none worked, or {@code null}
 * @param nextRefresh when the background refresh runs next
 */
public record ChainStats(@Nullable String source, @Nullable Instant expiration, @Nullable Duration age,
    long refreshes, long failures, @Nullable String lastError, Instant nextRefresh) {}
