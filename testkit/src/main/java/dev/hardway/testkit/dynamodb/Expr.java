package dev.hardway.testkit.dynamodb;

import java.util.ArrayList;
import java.util.List;

/** The syntax trees of DynamoDB's expressions, with names and values already substituted. */
final class Expr {

  private Expr() {}

  /** One step of a document path. */
  sealed interface Step permits Attr, Index {}

  /** A map key (or, first in a path, a top-level attribute name). */
  record Attr(String name) implements Step {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A list position. */
  record Index(int position) implements Step {
    @Override
    public String toString() {
      return "[" + position + "]";
    }
  }

  /** A document path such as {@code a.b[2].c}; the first step is always an {@link Attr}. */
  record Path(List<Step> steps) {
    Path {
      steps = List.copyOf(steps);
    }

    String head() {
      return ((Attr) steps.get(0)).name();
    }

    boolean isTopLevel() {
      return steps.size() == 1;
    }

    Path parent() {
      return new Path(steps.subList(0, steps.size() - 1));
    }

    Step last() {
      return steps.get(steps.size() - 1);
    }

    /** Whether this path equals {@code other} or is a prefix of it. */
    boolean covers(Path other) {
      return steps.size() <= other.steps.size() && other.steps.subList(0, steps.size()).equals(steps);
    }

    /**
     * Whether the paths reach the same spot through a map key in one and a list index in the other, e.g. {@code a.b}
     * and {@code a[0]}.
     */
    boolean conflictsWith(Path other) {
      int n = Math.min(steps.size(), other.steps.size());
      for (int i = 0; i < n; i++) {
        Step a = steps.get(i);
        Step b = other.steps.get(i);
        if (a.getClass() != b.getClass()) {
          return true;
        }
        if (!a.equals(b)) {
          return false;
        }
      }
      return false;
    }

    /** DynamoDB's rendering in error messages: {@code [a, b, [2]]}. */
    @Override
    public String toString() {
      List<String> parts = new ArrayList<>();
      for (Step s : steps) {
        parts.add(s.toString());
      }
      return parts.toString();
    }
  }

  // ---------------------------------------------------------------- operands

  /** Something that yields a value: a path, a placeholder value, or a function of them. */
  sealed interface Operand permits PathOperand, ValueOperand, Size, IfNotExists, ListAppend, Arithmetic {}

  record PathOperand(Path path) implements Operand {}

  record ValueOperand(String placeholder, Value value) implements Operand {}

  record Size(Path path) implements Operand {}

  record IfNotExists(Path path, Operand fallback) implements Operand {}

  record ListAppend(Operand first, Operand second) implements Operand {}

  record Arithmetic(Operand left, boolean plus, Operand right) implements Operand {}

  // ---------------------------------------------------------------- conditions

  /** A condition: ConditionExpression, FilterExpression, or (restricted) KeyConditionExpression. */
  sealed interface Condition
      permits Compare, Between, In, And, Or, Not, Exists, TypeIs, BeginsWith, Contains {}

  enum Comparator {
    EQ("="), NE("<>"), LT("<"), LE("<="), GT(">"), GE(">=");

    final String symbol;

    Comparator(String symbol) {
      this.symbol = symbol;
    }
  }

  record Compare(Operand left, Comparator comparator, Operand right) implements Condition {}

  record Between(Operand operand, Operand lower, Operand upper) implements Condition {}

  record In(Operand operand, List<Operand> candidates) implements Condition {}

  record And(Condition left, Condition right) implements Condition {}

  record Or(Condition left, Condition right) implements Condition {}

  record Not(Condition condition) implements Condition {}

  /** {@code attribute_exists} when {@code exists}, else {@code attribute_not_exists}. */
  record Exists(Path path, boolean exists) implements Condition {}

  record TypeIs(Path path, Operand type) implements Condition {}

  record BeginsWith(Operand operand, Operand prefix) implements Condition {}

  record Contains(Operand operand, Operand member) implements Condition {}

  // ---------------------------------------------------------------- updates

  /** One action of an UpdateExpression. */
  sealed interface Action permits SetAction, RemoveAction, AddAction, DeleteAction {
    Path path();
  }

  record SetAction(Path path, Operand value) implements Action {}

  record RemoveAction(Path path) implements Action {}

  record AddAction(Path path, ValueOperand value) implements Action {}

  record DeleteAction(Path path, ValueOperand value) implements Action {}

  /** A parsed UpdateExpression. */
  record Update(List<Action> actions) {
    Update {
      actions = List.copyOf(actions);
    }
  }
}
