package dev.hardway.testkit.dynamodb;

import dev.hardway.testkit.dynamodb.Expr.Action;
import dev.hardway.testkit.dynamodb.Expr.AddAction;
import dev.hardway.testkit.dynamodb.Expr.And;
import dev.hardway.testkit.dynamodb.Expr.Arithmetic;
import dev.hardway.testkit.dynamodb.Expr.Attr;
import dev.hardway.testkit.dynamodb.Expr.BeginsWith;
import dev.hardway.testkit.dynamodb.Expr.Between;
import dev.hardway.testkit.dynamodb.Expr.Comparator;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Tokenizer and recursive-descent parser for DynamoDB's expression languages. Precedence, loosest first: {@code OR},
 * {@code AND}, {@code NOT}, then comparisons, {@code BETWEEN}, {@code IN} and functions; parentheses group.
 */
final class ExpressionParser {

  /** DynamoDB's limit on an expression's length. */
  static final int MAX_EXPRESSION_LENGTH = 4096;
  /** DynamoDB's limit on document path depth. */
  static final int MAX_PATH_DEPTH = 32;
  /** DynamoDB's limit on the operands of IN. */
  static final int MAX_IN_OPERANDS = 100;

  static final Set<String> ATTRIBUTE_TYPES =
      Set.of("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M");

  private enum Kind { IDENT, NAME, VALUE, NUMBER, SYMBOL, END }

  private record Token(Kind kind, String text, int start, int end) {}

  private final String expressionName;
  private final String source;
  private final ExpressionInputs inputs;
  private final List<Token> tokens;
  private int pos;

  private ExpressionParser(String source, String expressionName, ExpressionInputs inputs) {
    this.source = source;
    this.expressionName = expressionName;
    this.inputs = inputs;
    if (source.length() > MAX_EXPRESSION_LENGTH) {
      throw invalid("Expression size has exceeded the maximum allowed size; length: " + source.length());
    }
    this.tokens = tokenize();
  }

  // ---------------------------------------------------------------- entry points

  static Condition condition(String source, String expressionName, ExpressionInputs inputs) {
    ExpressionParser parser = new ExpressionParser(source, expressionName, inputs);
    Condition condition = parser.parseOr();
    parser.expectEnd();
    return condition;
  }

  static Update update(String source, ExpressionInputs inputs) {
    ExpressionParser parser = new ExpressionParser(source, "UpdateExpression", inputs);
    Update update = parser.parseUpdate();
    parser.expectEnd();
    return update;
  }

  static List<Path> projection(String source, ExpressionInputs inputs) {
    ExpressionParser parser = new ExpressionParser(source, "ProjectionExpression", inputs);
    List<Path> paths = new ArrayList<>();
    paths.add(parser.parsePath());
    while (parser.acceptSymbol(",")) {
      paths.add(parser.parsePath());
    }
    parser.expectEnd();
    parser.checkPathsApart(paths);
    return paths;
  }

  // ---------------------------------------------------------------- conditions

  private Condition parseOr() {
    Condition left = parseAnd();
    while (acceptKeyword("OR")) {
      left = new Or(left, parseAnd());
    }
    return left;
  }

  private Condition parseAnd() {
    Condition left = parseNot();
    while (acceptKeyword("AND")) {
      left = new And(left, parseNot());
    }
    return left;
  }

  private Condition parseNot() {
    if (acceptKeyword("NOT")) {
      return new Not(parseNot());
    }
    return parsePrimary();
  }

  private Condition parsePrimary() {
    if (acceptSymbol("(")) {
      Condition inner = parseOr();
      expectSymbol(")");
      return inner;
    }
    Token t = peek();
    if (t.kind == Kind.IDENT && peekAt(1).kind == Kind.SYMBOL && peekAt(1).text.equals("(")
        && !t.text.equals("size")) {
      return parseConditionFunction();
    }
    Operand left = parseConditionOperand();
    Token op = peek();
    if (op.kind == Kind.SYMBOL) {
      Comparator comparator = switch (op.text) {
        case "=" -> Comparator.EQ;
        case "<>" -> Comparator.NE;
        case "<" -> Comparator.LT;
        case "<=" -> Comparator.LE;
        case ">" -> Comparator.GT;
        case ">=" -> Comparator.GE;
        default -> throw syntaxError(op);
      };
      pos++;
      Operand right = parseConditionOperand();
      if (comparator != Comparator.EQ && comparator != Comparator.NE) {
        checkOrderable(comparator.symbol, left);
        checkOrderable(comparator.symbol, right);
      }
      return new Compare(left, comparator, right);
    }
    if (acceptKeyword("BETWEEN")) {
      Operand lower = parseConditionOperand();
      expectKeyword("AND");
      Operand upper = parseConditionOperand();
      checkOrderable("BETWEEN", left);
      checkOrderable("BETWEEN", lower);
      checkOrderable("BETWEEN", upper);
      if (lower instanceof ValueOperand lo && upper instanceof ValueOperand hi) {
        if (!Value.comparable(lo.value(), hi.value())) {
          throw invalid("The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
              + "operand: AttributeValue: " + Value.describe(lo.value()) + ", upper bound operand: AttributeValue: "
              + Value.describe(hi.value()));
        }
        if (Value.compare(lo.value(), hi.value()) > 0) {
          throw invalid("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
              + "lower bound operand: AttributeValue: " + Value.describe(lo.value())
              + ", upper bound operand: AttributeValue: " + Value.describe(hi.value()));
        }
      }
      return new Between(left, lower, upper);
    }
    if (acceptKeyword("IN")) {
      expectSymbol("(");
      List<Operand> candidates = new ArrayList<>();
      candidates.add(parseConditionOperand());
      while (acceptSymbol(",")) {
        candidates.add(parseConditionOperand());
      }
      expectSymbol(")");
      if (candidates.size() > MAX_IN_OPERANDS) {
        throw invalid("The IN operator is provided with too many operands; number of operands: " + candidates.size());
      }
      return new In(left, candidates);
    }
    throw syntaxError(op);
  }

  private Condition parseConditionFunction() {
    Token name = next();
    String function = name.text;
    switch (function) {
      case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains" -> { }
      case "if_not_exists", "list_append" ->
          throw invalid("The function is not allowed to be used this way in an expression; function: " + function);
      default -> throw invalid("Invalid function name; function: " + function);
    }
    expectSymbol("(");
    List<Operand> args = new ArrayList<>();
    if (!peekSymbol(")")) {
      args.add(parseConditionOperand());
      while (acceptSymbol(",")) {
        args.add(parseConditionOperand());
      }
    }
    expectSymbol(")");
    int expected = function.startsWith("attribute_") && !function.equals("attribute_type") ? 1 : 2;
    if (args.size() != expected) {
      throw invalid("Incorrect number of operands for operator or function; operator or function: " + function
          + ", number of operands: " + args.size());
    }
    return switch (function) {
      case "attribute_exists" -> new Exists(requirePath(function, args.get(0)), true);
      case "attribute_not_exists" -> new Exists(requirePath(function, args.get(0)), false);
      case "attribute_type" -> {
        Path path = requirePath(function, args.get(0));
        if (args.get(1) instanceof ValueOperand type) {
          if (!(type.value() instanceof Value.S(String s)) || !ATTRIBUTE_TYPES.contains(s)) {
            throw invalid("Invalid attribute type name found; type: " + Value.describe(type.value())
                + ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
          }
        } else {
          throw invalid("Incorrect operand type for operator or function; operator or function: attribute_type, "
              + "the second operand must be an expression attribute value");
        }
        yield new TypeIs(path, args.get(1));
      }
      case "begins_with" -> {
        Operand subject = args.get(0);
        Operand prefix = args.get(1);
        for (Operand o : args) {
          if (o instanceof ValueOperand v && !(v.value() instanceof Value.S) && !(v.value() instanceof Value.B)) {
            throw invalid("Incorrect operand type for operator or function; operator or function: begins_with, "
                + "operand type: " + v.value().type() + " (" + v.placeholder() + ")");
          }
        }
        yield new BeginsWith(subject, prefix);
      }
      default -> {
        requirePath(function, args.get(0));
        yield new Contains(args.get(0), args.get(1));
      }
    };
  }

  private Path requirePath(String function, Operand operand) {
    if (operand instanceof PathOperand(Path path)) {
      return path;
    }
    throw invalid("Operator or function requires a document path; operator or function: " + function);
  }

  private void checkOrderable(String operator, Operand operand) {
    if (operand instanceof ValueOperand v && !(v.value() instanceof Value.S) && !(v.value() instanceof Value.N)
        && !(v.value() instanceof Value.B)) {
      throw invalid("Incorrect operand type for operator or function; operator: " + operator + ", operand type: "
          + v.value().type() + " (" + v.placeholder() + ")");
    }
  }

  private Operand parseConditionOperand() {
    Token t = peek();
    if (t.kind == Kind.VALUE) {
      pos++;
      return valueOperand(t);
    }
    if (t.kind == Kind.IDENT && peekAt(1).kind == Kind.SYMBOL && peekAt(1).text.equals("(")) {
      if (!t.text.equals("size")) {
        if (t.text.equals("if_not_exists") || t.text.equals("list_append")) {
          throw invalid("The function is not allowed to be used this way in an expression; function: " + t.text);
        }
        if (isConditionFunction(t.text)) {
          throw invalid("The function is not allowed to be used this way in an expression; function: " + t.text);
        }
        throw invalid("Invalid function name; function: " + t.text);
      }
      pos += 2;
      Operand arg = parseConditionOperand();
      expectSymbol(")");
      return new Size(requirePath("size", arg));
    }
    return new PathOperand(parsePath());
  }

  private static boolean isConditionFunction(String name) {
    return switch (name) {
      case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains" -> true;
      default -> false;
    };
  }

  // ---------------------------------------------------------------- updates

  private Update parseUpdate() {
    List<Action> actions = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    while (peek().kind != Kind.END) {
      Token clause = next();
      String keyword = clause.kind == Kind.IDENT ? clause.text.toUpperCase(Locale.ROOT) : "";
      if (!Set.of("SET", "REMOVE", "ADD", "DELETE").contains(keyword)) {
        throw syntaxError(clause);
      }
      if (!seen.add(keyword)) {
        throw invalid("The \"" + keyword + "\" section can only be used once in an update expression;");
      }
      do {
        Path path = parsePath();
        switch (keyword) {
          case "SET" -> {
            expectSymbol("=");
            actions.add(new SetAction(path, parseSetValue()));
          }
          case "REMOVE" -> actions.add(new RemoveAction(path));
          case "ADD" -> {
            ValueOperand value = expectValue();
            Value v = value.value();
            if (!(v instanceof Value.N || v instanceof Value.SS || v instanceof Value.NS || v instanceof Value.BS)) {
              throw invalid("Incorrect operand type for operator or function; operator: ADD, operand type: "
                  + v.type() + " (" + value.placeholder() + "); ADD takes a number or a set");
            }
            actions.add(new AddAction(path, value));
          }
          default -> {
            ValueOperand value = expectValue();
            Value v = value.value();
            if (!(v instanceof Value.SS || v instanceof Value.NS || v instanceof Value.BS)) {
              throw invalid("Incorrect operand type for operator or function; operator: DELETE, operand type: "
                  + v.type() + " (" + value.placeholder() + "); DELETE takes a set");
            }
            actions.add(new DeleteAction(path, value));
          }
        }
      } while (acceptSymbol(","));
    }
    if (actions.isEmpty()) {
      throw syntaxError(peek());
    }
    List<Path> paths = new ArrayList<>();
    for (Action a : actions) {
      paths.add(a.path());
    }
    checkPathsApart(paths);
    return new Update(actions);
  }

  private Operand parseSetValue() {
    Operand left = parseSetOperand();
    if (acceptSymbol("+")) {
      Operand right = parseSetOperand();
      checkNumberOperand("+", left);
      checkNumberOperand("+", right);
      return new Arithmetic(left, true, right);
    }
    if (acceptSymbol("-")) {
      Operand right = parseSetOperand();
      checkNumberOperand("-", left);
      checkNumberOperand("-", right);
      return new Arithmetic(left, false, right);
    }
    return left;
  }

  private void checkNumberOperand(String operator, Operand operand) {
    if (operand instanceof ValueOperand v && !(v.value() instanceof Value.N)) {
      throw invalid("Incorrect operand type for operator or function; operator: " + operator + ", operand type: "
          + v.value().type() + " (" + v.placeholder() + ")");
    }
  }

  private Operand parseSetOperand() {
    Token t = peek();
    if (t.kind == Kind.VALUE) {
      pos++;
      return valueOperand(t);
    }
    if (t.kind == Kind.IDENT && peekAt(1).kind == Kind.SYMBOL && peekAt(1).text.equals("(")) {
      pos += 2;
      switch (t.text) {
        case "if_not_exists" -> {
          Operand first = parseSetOperand();
          expectSymbol(",");
          Operand fallback = parseSetOperand();
          expectSymbol(")");
          return new IfNotExists(requirePath("if_not_exists", first), fallback);
        }
        case "list_append" -> {
          Operand first = parseSetOperand();
          expectSymbol(",");
          Operand second = parseSetOperand();
          expectSymbol(")");
          for (Operand o : List.of(first, second)) {
            if (o instanceof ValueOperand v && !(v.value() instanceof Value.L)) {
              throw invalid("Incorrect operand type for operator or function; operator or function: list_append, "
                  + "operand type: " + v.value().type() + " (" + v.placeholder() + ")");
            }
          }
          return new ListAppend(first, second);
        }
        default -> {
          if (t.text.equals("size") || isConditionFunction(t.text)) {
            throw invalid("The function is not allowed in an update expression; function: " + t.text);
          }
          throw invalid("Invalid function name; function: " + t.text);
        }
      }
    }
    return new PathOperand(parsePath());
  }

  private ValueOperand expectValue() {
    Token t = next();
    if (t.kind != Kind.VALUE) {
      throw syntaxError(t);
    }
    return valueOperand(t);
  }

  // ---------------------------------------------------------------- paths and placeholders

  private Path parsePath() {
    List<Step> steps = new ArrayList<>();
    steps.add(new Attr(pathName(next())));
    while (true) {
      if (acceptSymbol(".")) {
        steps.add(new Attr(pathName(next())));
      } else if (acceptSymbol("[")) {
        Token number = next();
        if (number.kind != Kind.NUMBER) {
          throw syntaxError(number);
        }
        int index;
        try {
          index = Integer.parseInt(number.text);
        } catch (NumberFormatException e) {
          throw invalid("List index is out of range; index: " + number.text);
        }
        expectSymbol("]");
        steps.add(new Index(index));
      } else {
        break;
      }
      if (steps.size() > MAX_PATH_DEPTH) {
        throw invalid("The document path has too many nesting levels; nesting levels: " + steps.size());
      }
    }
    return new Path(steps);
  }

  private String pathName(Token t) {
    if (t.kind == Kind.NAME) {
      String name = inputs.name(t.text);
      if (name == null) {
        throw invalid("An expression attribute name used in the document path is not defined; attribute name: "
            + t.text);
      }
      return name;
    }
    if (t.kind == Kind.IDENT) {
      if (ReservedWords.isReserved(t.text)) {
        throw invalid("Attribute name is a reserved keyword; reserved keyword: " + t.text);
      }
      return t.text;
    }
    throw syntaxError(t);
  }

  private ValueOperand valueOperand(Token t) {
    Value value = inputs.value(t.text);
    if (value == null) {
      throw invalid("An expression attribute value used in expression is not defined; attribute value: " + t.text);
    }
    return new ValueOperand(t.text, value);
  }

  private void checkPathsApart(List<Path> paths) {
    for (int i = 0; i < paths.size(); i++) {
      for (int j = i + 1; j < paths.size(); j++) {
        Path a = paths.get(i);
        Path b = paths.get(j);
        if (a.covers(b) || b.covers(a)) {
          throw invalid("Two document paths overlap with each other; must remove or rewrite one of these paths; "
              + "path one: " + a + ", path two: " + b);
        }
        if (a.conflictsWith(b)) {
          throw invalid("Two document paths conflict with each other; must remove or rewrite one of these paths; "
              + "path one: " + a + ", path two: " + b);
        }
      }
    }
  }

  // ---------------------------------------------------------------- tokens

  private List<Token> tokenize() {
    List<Token> out = new ArrayList<>();
    int i = 0;
    int n = source.length();
    while (i < n) {
      char c = source.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
        continue;
      }
      int start = i;
      if (isIdentStart(c)) {
        while (i < n && isIdentPart(source.charAt(i))) {
          i++;
        }
        out.add(new Token(Kind.IDENT, source.substring(start, i), start, i));
      } else if (c == '#' || c == ':') {
        i++;
        while (i < n && isIdentPart(source.charAt(i))) {
          i++;
        }
        if (i == start + 1) {
          throw syntaxError(new Token(Kind.SYMBOL, String.valueOf(c), start, i));
        }
        out.add(new Token(c == '#' ? Kind.NAME : Kind.VALUE, source.substring(start, i), start, i));
      } else if (c >= '0' && c <= '9') {
        while (i < n && source.charAt(i) >= '0' && source.charAt(i) <= '9') {
          i++;
        }
        out.add(new Token(Kind.NUMBER, source.substring(start, i), start, i));
      } else if (c == '<' && i + 1 < n && (source.charAt(i + 1) == '>' || source.charAt(i + 1) == '=')) {
        i += 2;
        out.add(new Token(Kind.SYMBOL, source.substring(start, i), start, i));
      } else if (c == '>' && i + 1 < n && source.charAt(i + 1) == '=') {
        i += 2;
        out.add(new Token(Kind.SYMBOL, ">=", start, i));
      } else if ("()[],.=<>+-".indexOf(c) >= 0) {
        i++;
        out.add(new Token(Kind.SYMBOL, String.valueOf(c), start, i));
      } else {
        int end = i + Character.charCount(source.codePointAt(i));
        throw syntaxError(new Token(Kind.SYMBOL, source.substring(start, end), start, end));
      }
    }
    out.add(new Token(Kind.END, "<EOF>", n, n));
    return out;
  }

  private static boolean isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  private static boolean isIdentPart(char c) {
    return isIdentStart(c) || (c >= '0' && c <= '9');
  }

  private Token peek() {
    return tokens.get(pos);
  }

  private Token peekAt(int ahead) {
    return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
  }

  private Token next() {
    Token t = tokens.get(pos);
    if (t.kind != Kind.END) {
      pos++;
    }
    return t;
  }

  private boolean peekSymbol(String symbol) {
    Token t = peek();
    return t.kind == Kind.SYMBOL && t.text.equals(symbol);
  }

  private boolean acceptSymbol(String symbol) {
    if (peekSymbol(symbol)) {
      pos++;
      return true;
    }
    return false;
  }

  private void expectSymbol(String symbol) {
    if (!acceptSymbol(symbol)) {
      throw syntaxError(peek());
    }
  }

  private boolean acceptKeyword(String keyword) {
    Token t = peek();
    if (t.kind == Kind.IDENT && t.text.equalsIgnoreCase(keyword)) {
      pos++;
      return true;
    }
    return false;
  }

  private void expectKeyword(String keyword) {
    if (!acceptKeyword(keyword)) {
      throw syntaxError(peek());
    }
  }

  private void expectEnd() {
    if (peek().kind != Kind.END) {
      throw syntaxError(peek());
    }
  }

  private ServiceError syntaxError(Token t) {
    int index = tokens == null ? -1 : tokens.indexOf(t);
    int from = t.start;
    int to = t.end;
    if (index > 0) {
      from = tokens.get(index - 1).start;
    }
    if (index >= 0 && index + 1 < tokens.size()) {
      to = Math.max(to, tokens.get(index + 1).end);
    }
    String near = source.substring(Math.max(0, from), Math.min(source.length(), to));
    return invalid("Syntax error; token: \"" + t.text + "\", near: \"" + near + "\"");
  }

  private ServiceError invalid(String detail) {
    return ServiceError.validation("Invalid " + expressionName + ": " + detail);
  }
}
