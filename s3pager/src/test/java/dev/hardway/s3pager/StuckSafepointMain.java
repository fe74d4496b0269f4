package dev.hardway.s3pager;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A reader blocks on a slow fault, then a System.gc() starts a safepoint that waits for it; the test kills the
 * handler from outside (no Java thread of this JVM can act then). Prints what happened.
 * Args: endpoint region bucket key guardian(true|false).
 */
public final class StuckSafepointMain {
  private StuckSafepointMain() { }

  public static void main(String[] args) throws Exception {
    try (S3Pager pager = ChildJvm.pager(args[0], args[1]).guardian(Boolean.parseBoolean(args[4])).build();
         PagedObject object = pager.open(args[2], args[3])) {
      System.out.println("HANDLER " + object.handlerPid());
      Thread reader = Thread.ofPlatform().start(() -> {
        try {
          byte b = object.segment().get(JAVA_BYTE, 8 << 20);
          System.out.println("READ " + b);
        } catch (InternalError e) {
          System.out.println("INTERNAL_ERROR " + e.getMessage());
        }
      });
      Thread.sleep(500);
      System.out.println("GC_STARTING");
      System.gc();
      System.out.println("GC_DONE");
      reader.join();
    }
    System.out.println("EXIT");
  }
}
