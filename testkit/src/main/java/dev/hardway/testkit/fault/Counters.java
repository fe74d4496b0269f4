package dev.hardway.testkit.fault;

import java.util.concurrent.atomic.LongAdder;

/** The proxy's running counts; {@link FaultProxy#stats()} takes a snapshot. */
final class Counters {
  final LongAdder accepted = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder targetConnectFailures = new LongAdder();
  final LongAdder reset = new LongAdder();
  final LongAdder cut = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder bytesUpstream = new LongAdder();
  final LongAdder bytesDownstream = new LongAdder();
  final LongAdder bytesBlackHoled = new LongAdder();
  final LongAdder bytesDiscarded = new LongAdder();
  final LongAdder httpRequests = new LongAdder();
  final LongAdder httpFaultsInjected = new LongAdder();
  final LongAdder httpPassthroughConnections = new LongAdder();
}
