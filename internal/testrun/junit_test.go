package testrun

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// exampleFiles are the test modules of examples/rag-chatbot, the files a
// pytest report from that project can be located in.
var exampleFiles = map[string]bool{
	"tests/unit/test_chunking.py":   true,
	"tests/unit/test_evaluation.py": true,
}

func exampleExists(p string) bool { return exampleFiles[p] }

func readFixture(t *testing.T, name string) *Report {
	t.Helper()
	rep, err := ReadJUnit(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("ReadJUnit(%s): %v", name, err)
	}
	return rep
}

// located is the part of a broken case the findings are built from.
type located struct {
	Name    string
	Outcome Outcome
	File    string
	Line    int
	Message string
}

func brokenOf(r *Report) []located {
	var out []located
	for _, tc := range r.Broken() {
		out = append(out, located{tc.Name, tc.Outcome, tc.File, tc.Line, firstLine(tc.Message)})
	}
	return out
}

func TestParseAndLocate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture string
		exists  func(string) bool
		counts  Counts
		pytest  bool
		broken  []located
	}{
		{
			fixture: "pytest-xunit2.xml",
			exists:  exampleExists,
			counts:  Counts{Passed: 23, Failed: 2, Errors: 1, Skipped: 1},
			pytest:  true,
			broken: []located{
				{"test_good_metrics_pass", Failed, "tests/unit/test_evaluation.py", 16, "assert (True, []) == (False, [])"},
				{"test_uses_broken_fixture", Errored, "tests/unit/test_evaluation.py", 82, `failed on setup with "RuntimeError: cannot open the evaluation table"`},
				{"test_in_class", Failed, "tests/unit/test_evaluation.py", 96, "AssertionError: assert 'a|b<c>' == '```'"},
			},
		},
		{
			// Without the files on disk, pytest class names still map to
			// modules by dropping the capitalised class part.
			fixture: "pytest-xunit2.xml",
			exists:  func(string) bool { return false },
			counts:  Counts{Passed: 23, Failed: 2, Errors: 1, Skipped: 1},
			pytest:  true,
			broken: []located{
				{"test_good_metrics_pass", Failed, "tests/unit/test_evaluation.py", 16, "assert (True, []) == (False, [])"},
				{"test_uses_broken_fixture", Errored, "tests/unit/test_evaluation.py", 82, `failed on setup with "RuntimeError: cannot open the evaluation table"`},
				{"test_in_class", Failed, "tests/unit/test_evaluation.py", 96, "AssertionError: assert 'a|b<c>' == '```'"},
			},
		},
		{
			fixture: "pytest-xunit1.xml",
			exists:  func(string) bool { return false },
			counts:  Counts{Passed: 23, Failed: 2, Errors: 1, Skipped: 1},
			pytest:  true,
			broken: []located{
				{"test_good_metrics_pass", Failed, "tests/unit/test_evaluation.py", 16, "assert (True, []) == (False, [])"},
				{"test_uses_broken_fixture", Errored, "tests/unit/test_evaluation.py", 82, `failed on setup with "RuntimeError: cannot open the evaluation table"`},
				{"test_in_class", Failed, "tests/unit/test_evaluation.py", 96, "AssertionError: assert 'a|b<c>' == '```'"},
			},
		},
		{
			fixture: "generic-testsuite.xml",
			exists:  func(string) bool { return false },
			counts:  Counts{Passed: 1, Failed: 1, Errors: 1, Skipped: 1},
			broken: []located{
				{"keepsOverlap", Failed, "src/test/java/com/example/rag/ChunkerTest.java", 42, "expected: <2> but was: <3>"},
				{"readsVolume", Errored, "", 0, ""},
			},
		},
		{
			fixture: "generic-testsuites.xml",
			exists:  func(string) bool { return false },
			counts:  Counts{Passed: 2, Failed: 1, Skipped: 1},
			broken: []located{
				{"chat > answers | quotes `code`", Failed, "src/chat.test.ts", 12, "expected 'no' to be 'yes'"},
			},
		},
		{
			fixture: "no-tests.xml",
			exists:  exampleExists,
			pytest:  true,
		},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			t.Parallel()
			rep := readFixture(t, c.fixture)
			rep.Locate(c.exists)
			if diff := cmp.Diff(c.counts, rep.Counts()); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if rep.Pytest != c.pytest {
				t.Errorf("Pytest = %v, want %v", rep.Pytest, c.pytest)
			}
			if diff := cmp.Diff(c.broken, brokenOf(rep)); diff != "" {
				t.Errorf("broken cases (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPytestXunit1LinesAreOneBased(t *testing.T) {
	t.Parallel()
	rep := readFixture(t, "pytest-xunit1.xml")
	// test_empty_text_gives_no_chunks is defined on line 6 of
	// tests/unit/test_chunking.py; pytest writes line="5".
	tc := rep.Cases[0]
	if tc.Name != "test_empty_text_gives_no_chunks" || tc.File != "tests/unit/test_chunking.py" || tc.Line != 6 {
		t.Errorf("first case = %s %s:%d, want test_empty_text_gives_no_chunks tests/unit/test_chunking.py:6", tc.Name, tc.File, tc.Line)
	}
}

func TestSlowest(t *testing.T) {
	t.Parallel()
	rep := readFixture(t, "pytest-xunit2.xml")
	var got []string
	for _, tc := range rep.Slowest(SlowestShown) {
		got = append(got, tc.Name)
	}
	want := []string{
		"test_no_chunk_exceeds_max_chars",
		"test_good_metrics_pass",
		"test_in_class",
		"test_nan_metric_fails",
		"test_splits_at_sentence_boundaries", // ties keep report order
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slowest (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, input string
		want        []string // substrings of the error
	}{
		{"empty", "", []string{"the report is empty"}},
		{"whitespace only", "  \n\t", []string{"the report is empty"}},
		{"truncated", "<?xml version=\"1.0\"?>\n<testsuites>\n<testsuite name=\"pytest\">\n<testcase name=\"a\">", []string{"line 4", "unexpected EOF"}},
		{"mismatched tag", "<testsuites>\n<testsuite>\n</testsuites>", []string{"line 3"}},
		{"wrong root", "<html><body>502</body></html>", []string{"unexpected root element <html>", "<testsuites> or <testsuite>"}},
		{"two roots", "<testsuite/>\n<testsuite/>", []string{"line 2", "second root element <testsuite>"}},
		{"garbage after root", "<testsuite/>\n<", []string{"line 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJUnit(strings.NewReader(c.input))
			if err == nil {
				t.Fatal("want an error, got nil")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReadJUnitNamesTheFile(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"malformed.xml", "empty.xml", "wrong-root.xml"} {
		_, err := ReadJUnit(filepath.Join("testdata", name))
		if err == nil || !strings.Contains(err.Error(), `failed to parse JUnit report "testdata/`+name+`"`) {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
	_, err := ReadJUnit(filepath.Join("testdata", "missing.xml"))
	if err == nil || !strings.Contains(err.Error(), `failed to read JUnit report "testdata/missing.xml"`) {
		t.Errorf("missing file: error %v", err)
	}
	if _, err := ReadJUnit(filepath.Join("testdata", "malformed.xml")); err == nil || !strings.Contains(err.Error(), "line 6") {
		t.Errorf("malformed.xml: error %v does not give the line", err)
	}
}

func TestFileFromClassName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		className string
		pytest    bool
		want      string
	}{
		{"tests.unit.test_chunking", true, "tests/unit/test_chunking.py"},
		{"tests.unit.test_evaluation.TestGroup", true, "tests/unit/test_evaluation.py"},
		{"tests.unit.test_evaluation.TestGroup.TestInner", true, "tests/unit/test_evaluation.py"},
		{"tests.unit.test_missing.TestX", true, "tests/unit/test_missing.py"},
		{"test_top", true, "test_top.py"},
		{"com.example.FooTest", false, ""},
		{"src/chat.test.ts", true, ""},
		{"", true, ""},
	}
	for _, c := range cases {
		if got := fileFromClassName(c.className, exampleExists, c.pytest); got != c.want {
			t.Errorf("fileFromClassName(%q, pytest=%v) = %q, want %q", c.className, c.pytest, got, c.want)
		}
	}
}

func TestLineFromDetails(t *testing.T) {
	t.Parallel()
	tb := "def test_x():\n>       chunk_text('a', 0)\n\ntests/unit/test_chunking.py:12: \n_ _ _\n\n    def chunk_text(text, max_chars):\n>       raise ValueError\nE       ValueError\n\nsrc/rag_chatbot/chunking.py:20: ValueError"
	cases := []struct {
		name, details, file string
		wantFile            string
		wantLine            int
	}{
		{"test frame wins over library frame", tb, "tests/unit/test_chunking.py", "tests/unit/test_chunking.py", 12},
		{"absolute path in traceback", "/home/runner/app/tests/unit/test_chunking.py:7: AssertionError", "tests/unit/test_chunking.py", "tests/unit/test_chunking.py", 7},
		{"unknown file takes last relative frame", tb, "", "src/rag_chatbot/chunking.py", 20},
		{"installed packages are skipped", "tests/t.py:3: in test\n/usr/lib/python3/site-packages/x.py:9: Error", "", "tests/t.py", 3},
		{"no location", "boom", "tests/t.py", "tests/t.py", 0},
	}
	for _, c := range cases {
		f, l := lineFromDetails(c.details, c.file)
		if f != c.wantFile || l != c.wantLine {
			t.Errorf("%s: got %s:%d, want %s:%d", c.name, f, l, c.wantFile, c.wantLine)
		}
	}
}

// TestGoldenSummaries renders each fixture as the result of a run in
// examples/rag-chatbot and compares the text and markdown summaries with
// testdata/golden. Run with -update to rewrite them, then read the diff.
func TestGoldenSummaries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture string
		exit    int
	}{
		{"pytest-xunit2.xml", 1},
		{"pytest-xunit1.xml", 1},
		{"generic-testsuite.xml", 1},
		{"generic-testsuites.xml", 1},
		{"no-tests.xml", 5},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			t.Parallel()
			rep := readFixture(t, c.fixture)
			rep.Locate(exampleExists)
			res := &Result{Args: []string{"pytest"}, ExitCode: c.exit, Report: rep, PathPrefix: "examples/rag-chatbot"}
			res.Mismatch = mismatch("pytest", c.exit, rep.Counts())
			base := strings.TrimSuffix(c.fixture, ".xml")
			var txt, md bytes.Buffer
			if err := res.WriteText(&txt); err != nil {
				t.Fatal(err)
			}
			if err := res.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", base+".txt"), txt.String())
			golden(t, filepath.Join("testdata", "golden", base+".md"), md.String())
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("failed to read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func FuzzParseJUnit(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseJUnit(bytes.NewReader(data))
		if err != nil {
			if rep != nil {
				t.Fatalf("report %v returned with error %v", rep, err)
			}
			return
		}
		c := rep.Counts()
		if c.Total() != len(rep.Cases) {
			t.Fatalf("counts %+v do not add up to %d cases", c, len(rep.Cases))
		}
		rep.Locate(func(string) bool { return false })
		res := &Result{Args: []string{"pytest"}, ExitCode: 1, Report: rep, PathPrefix: "b"}
		res.Mismatch = mismatch("pytest", 1, c)
		var md bytes.Buffer
		if err := res.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		if len(res.Findings()) != c.Broken()+btoi(res.Mismatch != "") {
			t.Fatalf("%d findings for %+v", len(res.Findings()), c)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestMismatchEscapedAsMarkdown: the warning is a markdown paragraph, so a
// program name from the command line cannot add emphasis, links or mentions.
func TestMismatchEscapedAsMarkdown(t *testing.T) {
	t.Parallel()
	res := &Result{Args: []string{"x"}, ExitCode: 5, Report: &Report{}}
	res.Mismatch = mismatch("*py_test* [x](http://e) @org/team", 5, Counts{})
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	want := `> **Warning:** \*py\_test\* \[x\](http://e) @&#8203;org/team exited 5`
	if !strings.Contains(md.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, md.String())
	}
}
