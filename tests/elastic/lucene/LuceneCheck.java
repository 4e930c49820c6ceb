// secaudit's Lucene check: what Elasticsearch's query_string would do with our converted queries,
// done by Lucene itself (Debian's liblucene8-java) in one JVM for all queries.
//
// Input (stdin, UTF-8, one record a line, fields tab-separated, names and values base64):
//   D                       a new document (numbered 0, 1, ... in input order)
//   L name value            keyword with the lowercase normalizer (sigma.*, secaudit.values)
//   C name value            keyword as read (sigma.*.cased, secaudit.product/categories/services)
//   N name value            double (sigma.*.num); a value that is not a finite number is skipped
//   I name value            ip (sigma.*.ip); the value is the address's bytes as hex (4 or 16)
//   K name value            exact keyword with ignore_above 1,024 (ECS keywords)
//   W name value            exact keyword without ignore_above (ECS wildcard fields, Wazuh keywords)
//   F name kind             (before the queries) how a field of an ECS or Wazuh index is read:
//                           C exact keyword, N number, I address, L normalized
//   Q query                 a query to parse, check and run on all documents
// Output (stdout): one line per Q, in order:
//   OK <clauses> <comma-separated document numbers>     or     ERR <reason>
//
// The field a query names decides how it is read, as the index template maps it: *.cased and
// secaudit.product/categories/services exact keywords, *.num doubles, *.ip addresses, every other
// name a lowercase-normalized keyword. Limits are Elasticsearch's: regex length 1,000
// (index.max_regex_length), 10,000 determinized states, 1,024 clauses in the whole query (counted
// over every leaf as Lucene 9's IndexSearcher counts them; OpenSearch's default).
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.InetAddressPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.search.WildcardQuery;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.ByteRunAutomaton;
import org.apache.lucene.util.automaton.CharacterRunAutomaton;
import org.apache.lucene.util.automaton.Operations;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.SimpleCollector;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.automaton.RegExp;
import org.apache.lucene.util.automaton.TooComplexToDeterminizeException;

public final class LuceneCheck {
  static final String DEFAULT_FIELD = "secaudit.values";
  static final int IGNORE_ABOVE = 8191;
  static final int MAX_REGEX_LENGTH = 1000;
  static final int MAX_DETERMINIZED_STATES = 10000;
  static final int MAX_CLAUSES = 1024;
  static final String IDX = "_secaudit_idx";

  enum Kind { LOWER, EXACT, NUMBER, ADDRESS }

  // fields whose kind a layout declared ("F" records): they take precedence over the name rules below
  static final java.util.Map<String, Kind> DECLARED = new java.util.HashMap<>();
  static final String FIELD_NAMES = "_field_names";
  static final java.util.concurrent.ConcurrentHashMap<String, Automaton> REGEXES =
      new java.util.concurrent.ConcurrentHashMap<>();

  static Kind kindOf(String field) {
    Kind declared = DECLARED.get(field);
    if (declared != null) return declared;
    if (field.endsWith(".cased") || field.equals("secaudit.product")
        || field.equals("secaudit.categories") || field.equals("secaudit.services")) {
      return Kind.EXACT;
    }
    if (field.endsWith(".num")) return Kind.NUMBER;
    if (field.endsWith(".ip")) return Kind.ADDRESS;
    return Kind.LOWER;
  }

  /** A keyword field's analyzer: the whole value one token, lowercased for normalized fields. */
  static final class KeywordAnalyzer extends Analyzer {
    KeywordAnalyzer() {
      super(PER_FIELD_REUSE_STRATEGY); // the chain depends on the field
    }

    @Override
    protected TokenStreamComponents createComponents(String field) {
      KeywordTokenizer tokenizer = new KeywordTokenizer();
      TokenStream out = kindOf(field) == Kind.LOWER ? new LowerCaseFilter(tokenizer) : tokenizer;
      return new TokenStreamComponents(tokenizer, out);
    }

    @Override
    protected TokenStream normalize(String field, TokenStream in) {
      return kindOf(field) == Kind.LOWER ? new LowerCaseFilter(in) : in;
    }
  }

  static final class RefusedException extends RuntimeException {
    RefusedException(String message) {
      super(message);
    }
  }

  /** The classic query parser with Elasticsearch's per-field handling for our mapping. */
  static final class EsParser extends QueryParser {
    EsParser(Analyzer analyzer) {
      super(DEFAULT_FIELD, analyzer);
      setAllowLeadingWildcard(true);
      setSplitOnWhitespace(false);
      setDefaultOperator(QueryParser.OR_OPERATOR);
    }

    @Override
    protected Query getFieldQuery(String field, String text, boolean quoted) throws ParseException {
      if (field.equals("_exists_")) {
        // query_string's exists query: documents with any indexed value in the field (a value over
        // ignore_above, a null or an empty list indexes none); number and address fields have no
        // terms, their indexed values are recorded in _field_names
        Kind kind = kindOf(text);
        if (kind == Kind.NUMBER || kind == Kind.ADDRESS) return new TermQuery(new Term(FIELD_NAMES, text));
        return new TermRangeQuery(text, null, null, true, true);
      }
      if (!quoted && text.length() > 1 && (text.charAt(0) == '>' || text.charAt(0) == '<')) {
        // Elasticsearch's query_string reads field:>N, >=N, <N, <=N as ranges (Lucene's parser does not)
        boolean inclusive = text.length() > 2 && text.charAt(1) == '=';
        String bound = text.substring(inclusive ? 2 : 1);
        return text.charAt(0) == '>'
            ? getRangeQuery(field, bound, null, inclusive, true)
            : getRangeQuery(field, null, bound, true, inclusive);
      }
      switch (kindOf(field)) {
        case NUMBER:
          return DoublePoint.newExactQuery(field, number(text));
        case ADDRESS:
          int slash = text.indexOf('/');
          if (slash >= 0) {
            int prefix;
            try {
              prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
              throw new RefusedException("bad prefix length in " + text);
            }
            return InetAddressPoint.newPrefixQuery(field, address(text.substring(0, slash)), prefix);
          }
          return InetAddressPoint.newExactQuery(field, address(text));
        default:
          return super.getFieldQuery(field, text, quoted);
      }
    }

    @Override
    protected Query getRangeQuery(String field, String lower, String upper, boolean startIncl, boolean endIncl)
        throws ParseException {
      if (kindOf(field) == Kind.NUMBER) {
        double low = lower == null || lower.equals("*") ? Double.NEGATIVE_INFINITY : number(lower);
        double high = upper == null || upper.equals("*") ? Double.POSITIVE_INFINITY : number(upper);
        if (!startIncl) low = Math.nextUp(low);
        if (!endIncl) high = Math.nextDown(high);
        return DoublePoint.newRangeQuery(field, low, high);
      }
      if (kindOf(field) == Kind.ADDRESS) throw new RefusedException("a range on ip field " + field);
      return super.getRangeQuery(field, lower, upper, startIncl, endIncl);
    }

    @Override
    protected Query getRegexpQuery(String field, String text) throws ParseException {
      if (kindOf(field) == Kind.NUMBER || kindOf(field) == Kind.ADDRESS) {
        throw new RefusedException("a regular expression on the non-text field " + field);
      }
      if (text.length() > MAX_REGEX_LENGTH) {
        throw new RefusedException("regex of " + text.length() + " characters (index.max_regex_length "
            + MAX_REGEX_LENGTH + ") on " + field);
      }
      try {
        Automaton automaton = REGEXES.get(text); // the same regex on many fields and rules: built once
        if (automaton == null) {
          automaton = new RegExp(text, RegExp.ALL).toAutomaton(MAX_DETERMINIZED_STATES);
          automaton = Operations.determinize(automaton, MAX_DETERMINIZED_STATES);
          REGEXES.put(text, automaton);
        }
        return new AutomatonTermsQuery(field, automaton, "/" + text + "/");
      } catch (TooComplexToDeterminizeException e) {
        throw new RefusedException("regex too complex to determinize (over " + MAX_DETERMINIZED_STATES
            + " states) on " + field);
      } catch (IllegalArgumentException e) {
        throw new RefusedException("invalid regex on " + field + ": " + e.getMessage());
      }
    }

    @Override
    protected Query getWildcardQuery(String field, String text) throws ParseException {
      if (kindOf(field) == Kind.NUMBER || kindOf(field) == Kind.ADDRESS) {
        throw new RefusedException("a wildcard on the non-text field " + field);
      }
      return super.getWildcardQuery(field, text);
    }

    @Override
    protected Query getBooleanQuery(List<BooleanClause> clauses) throws ParseException {
      Query query = super.getBooleanQuery(clauses);
      if (!(query instanceof BooleanQuery)) return query;
      BooleanQuery bool = (BooleanQuery) query;
      for (BooleanClause clause : bool.clauses()) {
        if (clause.getOccur() != BooleanClause.Occur.MUST_NOT) return query;
      }
      // as Elasticsearch's Queries.fixNegativeQueryIfNeeded: a purely negative query excludes from all
      BooleanQuery.Builder fixed = new BooleanQuery.Builder();
      for (BooleanClause clause : bool.clauses()) fixed.add(clause);
      fixed.add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER);
      return fixed.build();
    }

    @Override
    protected Query newWildcardQuery(Term term) {
      try {
        Automaton automaton = Operations.determinize(WildcardQuery.toAutomaton(term), MAX_DETERMINIZED_STATES);
        return new AutomatonTermsQuery(term.field(), automaton, term.text());
      } catch (TooComplexToDeterminizeException e) {
        throw new RefusedException("wildcard pattern too complex to determinize (over "
            + MAX_DETERMINIZED_STATES + " states) on " + term.field());
      }
    }

    @Override
    protected Query getPrefixQuery(String field, String text) throws ParseException {
      if (kindOf(field) == Kind.NUMBER || kindOf(field) == Kind.ADDRESS) {
        throw new RefusedException("a prefix query on the non-text field " + field);
      }
      return super.getPrefixQuery(field, text);
    }

    @Override
    protected Query getFuzzyQuery(String field, String text, float similarity) throws ParseException {
      throw new RefusedException("a fuzzy query (an unescaped ~) on " + field);
    }
  }

  /**
   * The terms of a field accepted by an automaton (what RegexpQuery and WildcardQuery match). Lucene
   * 8's CompiledAutomaton also works out each automaton's common suffix, which takes seconds for a
   * long "*text*" (Lucene 9, under Elasticsearch 8, no longer does); the terms matched are the same.
   */
  static final class AutomatonTermsQuery extends Query {
    final String field;
    final Automaton automaton;
    final String label;

    /** ``automaton`` determinized already (within Elasticsearch's limit). */
    AutomatonTermsQuery(String field, Automaton automaton, String label) {
      this.field = field;
      this.automaton = automaton;
      this.label = label;
    }

    /** The field's terms the automaton accepts, as one TermInSetQuery (nothing when none). */
    @Override
    public Query rewrite(IndexReader reader) throws IOException {
      CharacterRunAutomaton run = new CharacterRunAutomaton(automaton, MAX_DETERMINIZED_STATES);
      List<BytesRef> accepted = new ArrayList<>();
      for (LeafReaderContext leaf : reader.leaves()) {
        Terms terms = leaf.reader().terms(field);
        if (terms == null) continue;
        TermsEnum each = terms.iterator();
        for (BytesRef term = each.next(); term != null; term = each.next()) {
          if (run.run(term.utf8ToString())) accepted.add(BytesRef.deepCopyOf(term));
        }
      }
      return accepted.isEmpty() ? new MatchNoDocsQuery() : new TermInSetQuery(field, accepted);
    }

    @Override
    public void visit(QueryVisitor visitor) {
      if (visitor.acceptField(field)) visitor.consumeTermsMatching(this, field, () -> new ByteRunAutomaton(automaton));
    }

    @Override
    public String toString(String other) {
      return field + ":" + label;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof AutomatonTermsQuery && ((AutomatonTermsQuery) other).label.equals(label)
          && ((AutomatonTermsQuery) other).field.equals(field);
    }

    @Override
    public int hashCode() {
      return field.hashCode() * 31 + label.hashCode();
    }
  }

  static double number(String text) {
    try {
      double value = Double.parseDouble(text);
      if (Double.isFinite(value)) return value;
    } catch (NumberFormatException e) {
      // below
    }
    throw new RefusedException("not a number: " + text);
  }

  /** An address literal, parsed without any name lookup (a name is refused, never resolved). */
  static InetAddress address(String text) {
    byte[] bytes = null;
    if (text.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
      String[] parts = text.split("\\.");
      bytes = new byte[4];
      for (int i = 0; i < 4; i++) {
        int octet = Integer.parseInt(parts[i]);
        if (octet > 255) throw new RefusedException("not an IP address: " + text);
        bytes[i] = (byte) octet;
      }
    } else if (text.contains(":") && text.matches("[0-9A-Fa-f:.]+")) {
      try {
        return InetAddress.getByName(text); // a literal with ':' is parsed, never looked up
      } catch (IOException e) {
        throw new RefusedException("not an IP address: " + text);
      }
    }
    if (bytes == null) throw new RefusedException("not an IP address: " + text);
    try {
      return InetAddress.getByAddress(bytes);
    } catch (IOException e) {
      throw new RefusedException("not an IP address: " + text);
    }
  }

  static int clauses(Query query) {
    int[] count = {0};
    query.visit(new QueryVisitor() {
      @Override
      public QueryVisitor getSubVisitor(BooleanClause.Occur occur, Query parent) {
        return this;
      }

      @Override
      public void visitLeaf(Query leaf) {
        count[0]++;
      }

      @Override
      public void consumeTerms(Query leaf, Term... terms) {
        count[0]++;
      }

      @Override
      public void consumeTermsMatching(Query leaf, String field, Supplier<ByteRunAutomaton> automaton) {
        count[0]++;
      }
    });
    return count[0];
  }

  static String text(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }

  static void add(Document doc, String kind, String field, String value) {
    switch (kind) {
      case "L":
      case "C":
      case "K":
      case "W":
        // ignore_above: 8,191 for secaudit's template, 1,024 for ECS keywords (K), none for ECS
        // wildcard fields and Wazuh's keywords (W)
        int limit = kind.equals("K") ? 1024 : kind.equals("W") ? Integer.MAX_VALUE : IGNORE_ABOVE;
        if (value.length() > limit) return;
        String term = kind.equals("L") ? lower(value) : value;
        doc.add(new StringField(field, term, Field.Store.NO));
        return;
      case "N":
        try {
          double number = Double.parseDouble(value);
          if (Double.isFinite(number)) {
            doc.add(new DoublePoint(field, number));
            doc.add(new StringField(FIELD_NAMES, field, Field.Store.NO));
          }
        } catch (NumberFormatException e) {
          // ignore_malformed: the sub-field is simply left out
        }
        return;
      case "I":
        byte[] bytes = new byte[value.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] = (byte) Integer.parseInt(value.substring(2 * i, 2 * i + 2), 16);
        }
        try {
          doc.add(new InetAddressPoint(field, InetAddress.getByAddress(bytes)));
          doc.add(new StringField(FIELD_NAMES, field, Field.Store.NO));
        } catch (IOException e) {
          throw new IllegalArgumentException("bad address bytes " + value);
        }
        return;
      default:
        throw new IllegalArgumentException("unknown field kind " + kind);
    }
  }

  static final KeywordAnalyzer ANALYZER = new KeywordAnalyzer();

  /** The value as the lowercase normalizer indexes it (Lucene's own LowerCaseFilter). */
  static String lower(String value) {
    return ANALYZER.normalize("sigma.x", value).utf8ToString();
  }

  public static void main(String[] args) throws Exception {
    BooleanQuery.setMaxClauseCount(Integer.MAX_VALUE); // counted over the whole query instead
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    ByteBuffersDirectory directory = new ByteBuffersDirectory();
    IndexWriter writer = new IndexWriter(directory, new IndexWriterConfig(ANALYZER));
    Document doc = null;
    int docs = 0;
    List<String> queries = new ArrayList<>();
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isEmpty()) continue;
      String[] parts = line.split("\t", -1);
      switch (parts[0]) {
        case "D":
          if (doc != null) writer.addDocument(doc);
          doc = new Document();
          doc.add(new NumericDocValuesField(IDX, docs++));
          break;
        case "Q":
          queries.add(text(parts[1]));
          break;
        case "F": // F name kind: how a layout's index maps this field (C exact, N number, I address)
          String letter = parts[2];
          DECLARED.put(text(parts[1]), letter.equals("N") ? Kind.NUMBER : letter.equals("I") ? Kind.ADDRESS
              : letter.equals("L") ? Kind.LOWER : Kind.EXACT);
          break;
        default:
          add(doc, parts[0], text(parts[1]), text(parts[2]));
      }
    }
    if (doc != null) writer.addDocument(doc);
    writer.close();
    DirectoryReader reader = DirectoryReader.open(directory);
    IndexSearcher searcher = new IndexSearcher(reader);
    searcher.setQueryCache(null);
    boolean timing = System.getenv("LUCENE_CHECK_TIMING") != null;
    // queries are answered by two threads (the index is read-only by now); answers keep input order
    String[] answers = new String[queries.size()];
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    Runnable work = () -> {
      EsParser parser = new EsParser(ANALYZER);
      for (int n = next.getAndIncrement(); n < answers.length; n = next.getAndIncrement()) {
        String source = queries.get(n);
        long started = System.nanoTime();
        answers[n] = answer(parser, searcher, source);
        if (timing) System.err.println((System.nanoTime() - started) / 1000000 + " ms " + source);
      }
    };
    int threads = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
    List<Thread> pool = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread = new Thread(null, work, "check-" + t, 64L << 20);
      thread.start();
      pool.add(thread);
    }
    for (Thread thread : pool) thread.join();
    for (String answer : answers) {
      out.write(answer.replace('\n', ' ').replace('\r', ' '));
      out.write('\n');
    }
    out.flush();
    reader.close();
  }

  static String answer(EsParser parser, IndexSearcher searcher, String source) {
    try {
      Query query = parser.parse(source);
      if (System.getenv("LUCENE_CHECK_DEBUG") != null) {
        System.err.println(query);
      }
      int count = clauses(query);
      if (count > MAX_CLAUSES) {
        return "ERR\ttoo many clauses: " + count + " (indices.query.bool.max_clause_count " + MAX_CLAUSES + ")";
      }
      return "OK\t" + count + "\t" + String.join(",", run(searcher, query));
    } catch (ParseException e) {
      return "ERR\tparse error: " + e.getMessage();
    } catch (RefusedException e) {
      return "ERR\t" + e.getMessage();
    } catch (IOException | RuntimeException e) {
      return "ERR\t" + e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  static List<String> run(IndexSearcher searcher, Query query) throws IOException {
    List<String> found = new ArrayList<>();
    searcher.search(query, new SimpleCollector() {
      NumericDocValues idx;

      @Override
      protected void doSetNextReader(LeafReaderContext context) throws IOException {
        idx = context.reader().getNumericDocValues(IDX);
      }

      @Override
      public void collect(int doc) throws IOException {
        idx.advanceExact(doc);
        found.add(Long.toString(idx.longValue()));
      }

      @Override
      public ScoreMode scoreMode() {
        return ScoreMode.COMPLETE_NO_SCORES;
      }
    });
    return found;
  }
}
