package dev.hardway.testkit;

import java.util.stream.Collectors;

/**
 * Run in a separate JVM by {@link NoOrphansTest}: starts the child-process servers, prints the process ids of every
 * descendant, then waits to be killed.
 */
public final class OrphanProbe {

  private OrphanProbe() {}

  public static void main(String[] args) throws InterruptedException {
    LocalAws aws = LocalAws.start(Service.REDIS, Service.KINESIS);
    String pids = ProcessHandle.current().descendants()
        .filter(p -> p.info().command().map(c -> !c.endsWith("/sleep")).orElse(true))
        .map(p -> Long.toString(p.pid()))
        .collect(Collectors.joining(","));
    System.out.println("DESCENDANTS " + pids + " " + aws.endpoints().size());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
