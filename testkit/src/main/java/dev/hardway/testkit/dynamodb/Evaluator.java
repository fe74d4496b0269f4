package dev.hardway.testkit.dynamodb;

import dev.hardway.testkit.dynamodb.Expr.Action;
import dev.hardway.testkit.dynamodb.Expr.AddAction;
import dev.hardway.testkit.dynamodb.Expr.And;
import dev.hardway.testkit.dynamodb.Expr.Arithmetic;
import dev.hardway.testkit.dynamodb.Expr.Attr;
import dev.hardway.testkit.dynamodb.Expr.BeginsWith;
import dev.hardway.testkit.dynamodb.Expr.Between;
import dev.hardway.testkit.dynamodb.Expr.Compare;
import dev.hardway.testkit.dynamodb.Expr.Condition;
import dev.hardway.testkit.dynamodb.Expr.Contains;
import dev.hardway.testkit.dynamodb.Expr.DeleteAction;
import dev.hardway.testkit.dynamodb.Expr.Exists;
import dev.hardway.testkit.dynamodb.Expr.IfNotExists;
import dev.hardway.testkit.dynamodb.Expr.In;
import dev.hardway.testkit.dynamodb.Expr.Index;
import dev.hardway.testkit.dynamodb.Expr.ListAppend;
import dev.hardway.testkit.dynamodb.Expr.Not;
import dev.hardway.testkit.dynamodb.Expr.Operand;
import dev.hardway.testkit.dynamodb.Expr.Or;
import dev.hardway.testkit.dynamodb.Expr.Path;
import dev.hardway.testkit.dynamodb.Expr.PathOperand;
import dev.hardway.testkit.dynamodb.Expr.RemoveAction;
import dev.hardway.testkit.dynamodb.Expr.SetAction;
import dev.hardway.testkit.dynamodb.Expr.Size;
import dev.hardway.testkit.dynamodb.Expr.Step;
import dev.hardway.testkit.dynamodb.Expr.TypeIs;
import dev.hardway.testkit.dynamodb.Expr.Update;
import dev.hardway.testkit.dynamodb.Expr.ValueOperand;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** Evaluates parsed expressions against items. Items are immutable maps; updates build new ones. */
final class Evaluator {

  private Evaluator() {}

  // ---------------------------------------------------------------- paths

  static @Nullable Value resolve(@Nullable Map<String, Value> item, Path path) {
    if (item == null) {
      return null;
    }
    Value current = item.get(path.head());
    for (int i = 1; i < path.steps().size() && current != null; i++) {
      Step step = path.steps().get(i);
      if (step instanceof Attr(String name) && current instanceof Value.M(Map<String, Value> map)) {
        current = map.get(name);
      } else if (step instanceof Index(int position) && current instanceof Value.L(List<Value> list)) {
        current = position < list.size() ? list.get(position) : null;
      } else {
        current = null;
      }
    }
    return current;
  }

  // ---------------------------------------------------------------- conditions

  static boolean test(Condition condition, @Nullable Map<String, Value> item) {
    return switch (condition) {
      case And(Condition l, Condition r) -> test(l, item) && test(r, item);
      case Or(Condition l, Condition r) -> test(l, item) || test(r, item);
      case Not(Condition c) -> !test(c, item);
      case Exists(Path path, boolean exists) -> (resolve(item, path) != null) == exists;
      case TypeIs(Path path, Operand type) -> {
        Value v = resolve(item, path);
        Value t = operand(type, item);
        yield v != null && t instanceof Value.S(String s) && v.type().equals(s);
      }
      case BeginsWith(Operand subject, Operand prefix) -> beginsWith(operand(subject, item), operand(prefix, item));
      case Contains(Operand subject, Operand member) -> contains(operand(subject, item), operand(member, item));
      case Compare(Operand l, Expr.Comparator c, Operand r) -> compare(operand(l, item), c, operand(r, item));
      case Between(Operand o, Operand lo, Operand hi) -> {
        Value v = operand(o, item);
        Value low = operand(lo, item);
        Value high = operand(hi, item);
        yield v != null && low != null && high != null && Value.comparable(v, low) && Value.comparable(v, high)
            && Value.compare(v, low) >= 0 && Value.compare(v, high) <= 0;
      }
      case In(Operand o, List<Operand> candidates) -> {
        Value v = operand(o, item);
        if (v == null) {
          yield false;
        }
        for (Operand candidate : candidates) {
          if (v.equals(operand(candidate, item))) {
            yield true;
          }
        }
        yield false;
      }
    };
  }

  /**
   * DynamoDB's comparison semantics: a missing operand makes every comparison false except {@code <>}; values of
   * different types are unequal and unordered.
   */
  static boolean compare(@Nullable Value a, Expr.Comparator comparator, @Nullable Value b) {
    if (comparator == Expr.Comparator.EQ) {
      return a != null && a.equals(b);
    }
    if (comparator == Expr.Comparator.NE) {
      return a == null || !a.equals(b);
    }
    if (a == null || b == null || !Value.comparable(a, b)) {
      return false;
    }
    int c = Value.compare(a, b);
    return switch (comparator) {
      case LT -> c < 0;
      case LE -> c <= 0;
      case GT -> c > 0;
      case GE -> c >= 0;
      default -> throw new IllegalStateException("unreachable: " + comparator);
    };
  }

  static boolean beginsWith(@Nullable Value v, @Nullable Value prefix) {
    if (v instanceof Value.S(String s) && prefix instanceof Value.S(String p)) {
      return s.startsWith(p);
    }
    if (v instanceof Value.B(Bytes b) && prefix instanceof Value.B(Bytes p)) {
      return b.startsWith(p);
    }
    return false;
  }

  private static boolean contains(@Nullable Value container, @Nullable Value member) {
    if (container == null || member == null) {
      return false;
    }
    return switch (container) {
      case Value.S(String s) -> member instanceof Value.S(String m) && s.contains(m);
      case Value.SS(Set<String> set) -> member instanceof Value.S(String m) && set.contains(m);
      case Value.NS(Set<BigDecimal> set) -> member instanceof Value.N(BigDecimal m) && set.contains(m);
      case Value.BS(Set<Bytes> set) -> member instanceof Value.B(Bytes m) && set.contains(m);
      case Value.L(List<Value> list) -> list.contains(member);
      default -> false;
    };
  }

  /**
   * The value of a condition operand, or null when it names nothing. {@code size} counts a string's UTF-8 bytes, as
   * DynamoDB documents it, and elements of sets, lists and maps; other types have no size.
   */
  static @Nullable Value operand(Operand operand, @Nullable Map<String, Value> item) {
    return switch (operand) {
      case PathOperand(Path path) -> resolve(item, path);
      case ValueOperand v -> v.value();
      case Size(Path path) -> {
        Value v = resolve(item, path);
        long size = switch (v) {
          case null -> -1;
          case Value.S(String s) -> Value.utf8Length(s);
          case Value.B(Bytes b) -> b.length();
          case Value.SS(Set<String> set) -> set.size();
          case Value.NS(Set<BigDecimal> set) -> set.size();
          case Value.BS(Set<Bytes> set) -> set.size();
          case Value.M(Map<String, Value> map) -> map.size();
          case Value.L(List<Value> list) -> list.size();
          default -> -1;
        };
        yield size < 0 ? null : new Value.N(BigDecimal.valueOf(size));
      }
      default -> throw new IllegalStateException("not a condition operand: " + operand);
    };
  }

  // ---------------------------------------------------------------- updates

  /**
   * Applies an UpdateExpression. Every right-hand side is evaluated against the item as it was before the update,
   * as DynamoDB does.
   *
   * @param item the current item, or the key alone when there is none
   */
  static Map<String, Value> apply(Update update, Map<String, Value> item) {
    List<Action> ordered = new ArrayList<>();
    List<Value> values = new ArrayList<>();
    for (Action action : update.actions()) {
      if (action instanceof SetAction(Path path, Operand operand)) {
        ordered.add(action);
        values.add(setValue(operand, item));
      }
    }
    // Removing list elements from the highest index down keeps every index meaning what it meant in the old item.
    List<RemoveAction> removes = new ArrayList<>();
    for (Action action : update.actions()) {
      if (action instanceof RemoveAction remove) {
        removes.add(remove);
      }
    }
    removes.sort(Comparator.comparing(RemoveAction::path, Evaluator::comparePaths).reversed());
    Map<String, Value> result = item;
    for (int i = 0; i < ordered.size(); i++) {
      result = set(result, ordered.get(i).path(), values.get(i));
    }
    for (RemoveAction remove : removes) {
      result = remove(result, remove.path());
    }
    for (Action action : update.actions()) {
      if (action instanceof AddAction(Path path, ValueOperand operand)) {
        result = set(result, path, add(resolve(item, path), operand.value()));
      } else if (action instanceof DeleteAction(Path path, ValueOperand operand)) {
        Value current = resolve(item, path);
        if (current != null) {
          Value remaining = deleteFromSet(current, operand.value());
          result = remaining == null ? remove(result, path) : set(result, path, remaining);
        }
      }
    }
    return result;
  }

  private static int comparePaths(Path a, Path b) {
    int n = Math.min(a.steps().size(), b.steps().size());
    for (int i = 0; i < n; i++) {
      Step x = a.steps().get(i);
      Step y = b.steps().get(i);
      int c;
      if (x instanceof Index(int p) && y instanceof Index(int q)) {
        c = Integer.compare(p, q);
      } else {
        c = x.toString().compareTo(y.toString());
      }
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.steps().size(), b.steps().size());
  }

  private static Value setValue(Operand operand, Map<String, Value> item) {
    return switch (operand) {
      case ValueOperand v -> v.value();
      case PathOperand(Path path) -> {
        Value v = resolve(item, path);
        if (v == null) {
          throw ServiceError.validation("The provided expression refers to an attribute that does not exist in the "
              + "item; path: " + path);
        }
        yield v;
      }
      case IfNotExists(Path path, Operand fallback) -> {
        Value v = resolve(item, path);
        yield v != null ? v : setValue(fallback, item);
      }
      case ListAppend(Operand first, Operand second) -> {
        Value a = setValue(first, item);
        Value b = setValue(second, item);
        if (!(a instanceof Value.L(List<Value> x)) || !(b instanceof Value.L(List<Value> y))) {
          throw ServiceError.validation("An operand in the update expression has an incorrect data type; "
              + "list_append takes two lists, got " + a.type() + " and " + b.type());
        }
        List<Value> joined = new ArrayList<>(x);
        joined.addAll(y);
        yield new Value.L(joined);
      }
      case Arithmetic(Operand left, boolean plus, Operand right) -> {
        Value a = setValue(left, item);
        Value b = setValue(right, item);
        if (!(a instanceof Value.N(BigDecimal x)) || !(b instanceof Value.N(BigDecimal y))) {
          throw ServiceError.validation("An operand in the update expression has an incorrect data type; "
              + (plus ? "+" : "-") + " takes two numbers, got " + a.type() + " and " + b.type());
        }
        yield new Value.N(Numbers.checked(plus ? x.add(y) : x.subtract(y)));
      }
      case Size s -> throw new IllegalStateException("size() in an update: " + s);
    };
  }

  private static Value add(@Nullable Value current, Value addend) {
    if (current == null) {
      return addend;
    }
    if (current instanceof Value.N(BigDecimal x) && addend instanceof Value.N(BigDecimal y)) {
      return new Value.N(Numbers.checked(x.add(y)));
    }
    if (current instanceof Value.SS(Set<String> x) && addend instanceof Value.SS(Set<String> y)) {
      Set<String> union = new LinkedHashSet<>(x);
      union.addAll(y);
      return new Value.SS(union);
    }
    if (current instanceof Value.NS(Set<BigDecimal> x) && addend instanceof Value.NS(Set<BigDecimal> y)) {
      Set<BigDecimal> union = new LinkedHashSet<>(x);
      union.addAll(y);
      return new Value.NS(union);
    }
    if (current instanceof Value.BS(Set<Bytes> x) && addend instanceof Value.BS(Set<Bytes> y)) {
      Set<Bytes> union = new LinkedHashSet<>(x);
      union.addAll(y);
      return new Value.BS(union);
    }
    throw ServiceError.validation("An operand in the update expression has an incorrect data type; ADD of "
        + addend.type() + " to an attribute of type " + current.type());
  }

  private static @Nullable Value deleteFromSet(Value current, Value removed) {
    if (current instanceof Value.SS(Set<String> x) && removed instanceof Value.SS(Set<String> y)) {
      Set<String> r = new LinkedHashSet<>(x);
      r.removeAll(y);
      return r.isEmpty() ? null : new Value.SS(r);
    }
    if (current instanceof Value.NS(Set<BigDecimal> x) && removed instanceof Value.NS(Set<BigDecimal> y)) {
      Set<BigDecimal> r = new LinkedHashSet<>(x);
      r.removeAll(y);
      return r.isEmpty() ? null : new Value.NS(r);
    }
    if (current instanceof Value.BS(Set<Bytes> x) && removed instanceof Value.BS(Set<Bytes> y)) {
      Set<Bytes> r = new LinkedHashSet<>(x);
      r.removeAll(y);
      return r.isEmpty() ? null : new Value.BS(r);
    }
    throw ServiceError.validation("An operand in the update expression has an incorrect data type; DELETE of "
        + removed.type() + " from an attribute of type " + current.type());
  }

  /** A copy of the item with the value at the path replaced. */
  static Map<String, Value> set(Map<String, Value> item, Path path, Value value) {
    Map<String, Value> copy = new LinkedHashMap<>(item);
    if (path.isTopLevel()) {
      copy.put(path.head(), value);
      return copy;
    }
    Value top = item.get(path.head());
    if (top == null) {
      throw invalidPath(path);
    }
    copy.put(path.head(), setIn(top, path, 1, value));
    return copy;
  }

  private static Value setIn(Value container, Path path, int at, Value value) {
    Step step = path.steps().get(at);
    boolean last = at == path.steps().size() - 1;
    if (step instanceof Attr(String name) && container instanceof Value.M(Map<String, Value> map)) {
      Map<String, Value> copy = new LinkedHashMap<>(map);
      if (last) {
        copy.put(name, value);
      } else {
        Value child = map.get(name);
        if (child == null) {
          throw invalidPath(path);
        }
        copy.put(name, setIn(child, path, at + 1, value));
      }
      return new Value.M(copy);
    }
    if (step instanceof Index(int position) && container instanceof Value.L(List<Value> list)) {
      List<Value> copy = new ArrayList<>(list);
      if (last) {
        // DynamoDB appends when the index is past the end of the list.
        if (position < copy.size()) {
          copy.set(position, value);
        } else {
          copy.add(value);
        }
      } else {
        if (position >= list.size()) {
          throw invalidPath(path);
        }
        copy.set(position, setIn(list.get(position), path, at + 1, value));
      }
      return new Value.L(copy);
    }
    throw invalidPath(path);
  }

  /** A copy of the item without the value at the path; a path that names nothing changes nothing. */
  static Map<String, Value> remove(Map<String, Value> item, Path path) {
    if (path.isTopLevel()) {
      if (!item.containsKey(path.head())) {
        return item;
      }
      Map<String, Value> copy = new LinkedHashMap<>(item);
      copy.remove(path.head());
      return copy;
    }
    Value top = item.get(path.head());
    if (top == null) {
      return item;
    }
    Value changed = removeIn(top, path, 1);
    if (changed == top) {
      return item;
    }
    Map<String, Value> copy = new LinkedHashMap<>(item);
    copy.put(path.head(), changed);
    return copy;
  }

  private static Value removeIn(Value container, Path path, int at) {
    Step step = path.steps().get(at);
    boolean last = at == path.steps().size() - 1;
    if (step instanceof Attr(String name) && container instanceof Value.M(Map<String, Value> map)) {
      Value child = map.get(name);
      if (child == null) {
        return container;
      }
      Map<String, Value> copy = new LinkedHashMap<>(map);
      if (last) {
        copy.remove(name);
      } else {
        Value changed = removeIn(child, path, at + 1);
        if (changed == child) {
          return container;
        }
        copy.put(name, changed);
      }
      return new Value.M(copy);
    }
    if (step instanceof Index(int position) && container instanceof Value.L(List<Value> list)) {
      if (position >= list.size()) {
        return container;
      }
      List<Value> copy = new ArrayList<>(list);
      if (last) {
        copy.remove(position);
      } else {
        Value child = list.get(position);
        Value changed = removeIn(child, path, at + 1);
        if (changed == child) {
          return container;
        }
        copy.set(position, changed);
      }
      return new Value.L(copy);
    }
    throw invalidPath(path);
  }

  private static ServiceError invalidPath(Path path) {
    return ServiceError.validation("The document path provided in the update expression is invalid for update; "
        + "path: " + path);
  }

  // ---------------------------------------------------------------- projections

  /**
   * The parts of an item the paths name, nested as in the item; elements picked from a list keep their order and
   * close up, as DynamoDB returns them.
   */
  static Map<String, Value> project(Map<String, Value> item, List<Path> paths) {
    Node root = new Node();
    for (Path path : paths) {
      Value v = resolve(item, path);
      if (v == null) {
        continue;
      }
      Node node = root;
      for (int i = 0; i < path.steps().size(); i++) {
        Step step = path.steps().get(i);
        Object key = step instanceof Attr(String name) ? name : ((Index) step).position();
        node = node.children.computeIfAbsent(key, k -> new Node());
      }
      node.leaf = v;
    }
    Map<String, Value> out = new LinkedHashMap<>();
    // Keep the item's attribute order rather than the projection's.
    for (String name : item.keySet()) {
      Node child = root.children.get(name);
      if (child != null) {
        out.put(name, child.build(item.get(name)));
      }
    }
    return out;
  }

  private static final class Node {
    final Map<Object, Node> children = new LinkedHashMap<>();
    @Nullable Value leaf;

    Value build(@Nullable Value original) {
      if (leaf != null) {
        return leaf;
      }
      if (original instanceof Value.L(List<Value> list)) {
        TreeMap<Integer, Node> byIndex = new TreeMap<>();
        children.forEach((k, v) -> byIndex.put((Integer) k, v));
        List<Value> values = new ArrayList<>();
        byIndex.forEach((i, n) -> values.add(n.build(list.get(i))));
        return new Value.L(values);
      }
      Map<String, Value> map = original instanceof Value.M(Map<String, Value> m) ? m : Map.of();
      Map<String, Value> values = new LinkedHashMap<>();
      children.forEach((k, n) -> values.put((String) k, n.build(map.get((String) k))));
      return new Value.M(values);
    }
  }
}
