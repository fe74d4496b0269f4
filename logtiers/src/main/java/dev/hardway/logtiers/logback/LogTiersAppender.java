package dev.hardway.logtiers.logback;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import dev.hardway.logtiers.AppendResult;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.LogType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Marker;

/**
 * Routes Logback events to log tiers: each event goes to the log type of the first route that matches it — by SLF4J
 * marker name, or by logger name (the name itself or anything below it) — or to the default type, and is encoded by the
 * appender's encoder into the record's payload. The application builds its {@link LogTiers} (with its own SDK
 * clients) and registers it under a name; the appender refers to that name, so it never builds AWS clients itself.
 *
 * <pre>{@code
 * <appender name="TIERS" class="dev.hardway.logtiers.logback.LogTiersAppender">
 *   <instance>bidder</instance>
 *   <route><marker>AUDIT</marker><type>audit</type></route>
 *   <route><logger>com.acme.auction</logger><type>auction</type></route>
 *   <defaultType>app</defaultType>                      <!-- optional: unmatched events are counted, not sent -->
 *   <encoder><pattern>%d{ISO8601}\t%level\t%logger\t%msg</pattern></encoder>
 * </appender>
 *
 * LogTiersAppender.register("bidder", tiers);           // at start-up, once the tiers are built
 * }</pre>
 *
 * <p>Events that arrive before the instance is registered, or after it is unregistered, are counted
 * ({@link #beforeRegistration()}) and dropped: Logback starts before the application can build its clients. Events no
 * route matches are counted ({@link #unrouted()}). An append the tiers refuse is counted ({@link #refused()}) — the
 * tiers' own stats say why. Nothing is thrown into the logging thread; configuration errors go to Logback's status.
 *
 * <p>Thread-safe: Logback calls {@link #append} from every logging thread without a lock; the encoder must be
 * thread-safe (Logback's {@code PatternLayoutEncoder} is).
 */
// Its signatures show Logback types from an optional (static, not transitive) dependency: whoever configures the
// appender is Logback, which has them.
@SuppressWarnings("exports")
public final class LogTiersAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
  private static final Map<String, LogTiers> INSTANCES = new ConcurrentHashMap<>();

  private @Nullable String instance;
  private @Nullable Encoder<ILoggingEvent> encoder;
  private final List<Route> routes = new ArrayList<>();
  private @Nullable String defaultType;
  private final LongAdder beforeRegistration = new LongAdder();
  private final LongAdder unrouted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder appended = new LongAdder();
  private volatile @Nullable Bound bound;

  /** Creates an appender; Logback sets its properties from the configuration. */
  public LogTiersAppender() {}

  /**
   * Makes a {@link LogTiers} available to appenders that name it.
   *
   * @param name the name appenders refer to in {@code <instance>}
   * @param tiers the instance
   */
  public static void register(String name, LogTiers tiers) {
    INSTANCES.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(tiers, "tiers"));
  }

  /**
   * Withdraws a registered instance (before closing it); later events are counted as before registration.
   *
   * @param name the name
   */
  public static void unregister(String name) {
    INSTANCES.remove(Objects.requireNonNull(name, "name"));
  }

  /** One routing rule: a marker or a logger name, and the log type its events go to. */
  public static final class Route {
    private @Nullable String logger;
    private @Nullable String marker;
    private @Nullable String type;

    /** Creates an empty route; Logback sets it from the configuration. */
    public Route() {}

    /**
     * Matches events of this logger and every logger below it ({@code com.acme} matches {@code com.acme.Bid}).
     *
     * @param logger a logger name
     */
    public void setLogger(String logger) {
      this.logger = logger;
    }

    /**
     * Matches events carrying this SLF4J marker (one of an event's markers, by name).
     *
     * @param marker a marker name
     */
    public void setMarker(String marker) {
      this.marker = marker;
    }

    /**
     * The log type matching events go to.
     *
     * @param type a type routed in the registered {@link LogTiers}
     */
    public void setType(String type) {
      this.type = type;
    }

    boolean matches(ILoggingEvent event) {
      if (marker != null) {
        List<Marker> markers = event.getMarkerList();
        if (markers != null) {
          for (Marker m : markers) {
            if (m.getName().equals(marker)) {
              return true;
            }
          }
        }
        return false;
      }
      String name = event.getLoggerName();
      return logger != null && name != null && (name.equals(logger) || (name.startsWith(logger)
          && name.length() > logger.length() && name.charAt(logger.length()) == '.'));
    }

    @Override
    public String toString() {
      return (marker != null ? "marker " + marker : "logger " + logger) + " -> " + type;
    }
  }

  /**
   * The registered instance to append to (required).
   *
   * @param instance its name
   */
  public void setInstance(String instance) {
    this.instance = instance;
  }

  /**
   * Turns an event into the record's payload (required), e.g. a {@code PatternLayoutEncoder}.
   *
   * @param encoder the encoder
   */
  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  /**
   * Adds a route; routes are tried in order and the first match wins.
   *
   * @param route the route
   */
  public void addRoute(Route route) {
    routes.add(route);
  }

  /**
   * The log type of events no route matches (default: none, and such events are counted and dropped).
   *
   * @param type a routed log type
   */
  public void setDefaultType(String type) {
    this.defaultType = type;
  }

  @Override
  public void start() {
    boolean ok = true;
    if (instance == null || instance.isBlank()) {
      addError("LogTiersAppender '" + getName() + "' needs <instance>: the name its LogTiers is registered under");
      ok = false;
    }
    if (encoder == null) {
      addError("LogTiersAppender '" + getName() + "' needs an <encoder>, e.g. with a <pattern>");
      ok = false;
    }
    if (routes.isEmpty() && defaultType == null) {
      addError("LogTiersAppender '" + getName() + "' needs at least one <route> or a <defaultType>");
      ok = false;
    }
    for (Route r : routes) {
      if (r.type == null || (r.logger == null) == (r.marker == null)) {
        addError("LogTiersAppender '" + getName() + "': each <route> needs a <type> and exactly one of <logger> "
            + "or <marker>, got " + r);
        ok = false;
      }
    }
    if (ok) {
      super.start();
    }
  }

  @Override
  protected void append(ILoggingEvent event) {
    String type = defaultType;
    for (Route r : routes) {
      if (r.matches(event)) {
        type = r.type;
        break;
      }
    }
    if (type == null) {
      unrouted.increment();
      return;
    }
    LogTiers tiers = INSTANCES.get(Objects.requireNonNull(instance));
    if (tiers == null) {
      beforeRegistration.increment();
      return;
    }
    LogType target = logType(tiers, type);
    if (target == null) {
      refused.increment();
      return;
    }
    AppendResult result = target.append(Objects.requireNonNull(encoder).encode(event));
    if (result == AppendResult.ACCEPTED) {
      appended.increment();
    } else {
      refused.increment();
    }
  }

  /**
   * The log types resolved for one registered instance, replaced whole when another instance is registered under the
   * name: a thread still holding the old instance then fills the old map, never the new one.
   */
  private record Bound(LogTiers tiers, Map<String, LogType> types, Set<String> unknown) {}

  private @Nullable LogType logType(LogTiers tiers, String type) {
    Bound b = bound;
    if (b == null || b.tiers() != tiers) {
      b = new Bound(tiers, new ConcurrentHashMap<>(), ConcurrentHashMap.newKeySet());
      bound = b;
    }
    LogType t = b.types().get(type);
    if (t == null) {
      try {
        t = tiers.type(type);
        b.types().put(type, t);
      } catch (IllegalArgumentException e) {
        // Once per type and instance: a route to an unknown type would otherwise flood Logback's status.
        if (b.unknown().add(type)) {
          addError("LogTiersAppender '" + getName() + "': " + e.getMessage() + "; its events are counted as refused");
        }
        return null;
      }
    }
    return t;
  }

  /**
   * Events dropped because no instance was registered under the configured name at the time.
   *
   * @return the count
   */
  public long beforeRegistration() {
    return beforeRegistration.sum();
  }

  /**
   * Events no route matched (and no default type).
   *
   * @return the count
   */
  public long unrouted() {
    return unrouted.sum();
  }

  /**
   * Events the tiers did not accept in full (dropped by a lossy tier, refused by the mid tier, or an unrouted type).
   *
   * @return the count
   */
  public long refused() {
    return refused.sum();
  }

  /**
   * Events every tier of their type accepted.
   *
   * @return the count
   */
  public long appended() {
    return appended.sum();
  }
}
