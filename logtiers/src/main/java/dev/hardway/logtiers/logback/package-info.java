/**
 * A Logback appender that routes logging events to log tiers, so that a team adopts the tiers by configuration: see
 * {@link dev.hardway.logtiers.logback.LogTiersAppender}.
 */
@NullMarked
package dev.hardway.logtiers.logback;

import org.jspecify.annotations.NullMarked;
