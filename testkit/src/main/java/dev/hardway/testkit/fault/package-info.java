/**
 * Fault injection: {@link dev.hardway.testkit.fault.FaultProxy}, a TCP proxy (HTTP-aware on request) that adds
 * latency, limits bandwidth, resets, black-holes, refuses or cuts connections, and answers chosen HTTP requests
 * with errors or slow or truncated bodies, switchable at run time.
 */
@NullMarked
package dev.hardway.testkit.fault;

import org.jspecify.annotations.NullMarked;
