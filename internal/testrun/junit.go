package testrun

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Outcome is what happened to one test case.
type Outcome string

// The outcomes of a test case. A case with a failure is Failed, one with an
// error (in the test or its set-up or tear-down) and no failure is Errored.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Errored Outcome = "error"
	Skipped Outcome = "skipped"
)

// TestCase is one <testcase> of a JUnit report.
type TestCase struct {
	Suite     string
	ClassName string
	Name      string
	// File is the test's source file as the report names it or as derived
	// from ClassName, relative to the directory the tests ran in when known.
	File string
	// Line is 1-based; zero means unknown.
	Line    int
	Time    time.Duration
	Outcome Outcome
	// Message is the failure, error or skip message attribute.
	Message string
	// Details is the failure or error text (for pytest, the traceback).
	Details string
}

// ID names the test the way the report does: "classname::name", or just the
// name when the report has no class name.
func (c TestCase) ID() string {
	if c.ClassName == "" {
		return c.Name
	}
	return c.ClassName + "::" + c.Name
}

// Counts are the number of test cases per outcome.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errors  int `json:"errors"`
	Skipped int `json:"skipped"`
}

// Total is the number of test cases.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Errors + c.Skipped }

// Broken is the number of cases that failed or errored.
func (c Counts) Broken() int { return c.Failed + c.Errors }

// Report is a parsed JUnit report.
type Report struct {
	Cases []TestCase
	// Pytest is true when the report was written by pytest (a suite named
	// "pytest"); its cases then carry pytest's conventions.
	Pytest bool
}

// Counts counts the report's cases by outcome.
func (r *Report) Counts() Counts {
	var c Counts
	for _, tc := range r.Cases {
		switch tc.Outcome {
		case Failed:
			c.Failed++
		case Errored:
			c.Errors++
		case Skipped:
			c.Skipped++
		default:
			c.Passed++
		}
	}
	return c
}

// Duration is the sum of the cases' times.
func (r *Report) Duration() time.Duration {
	var d time.Duration
	for _, tc := range r.Cases {
		d += tc.Time
	}
	return d
}

// Slowest returns up to n cases, slowest first; ties keep report order.
func (r *Report) Slowest(n int) []TestCase {
	cases := append([]TestCase(nil), r.Cases...)
	slices.SortStableFunc(cases, func(a, b TestCase) int { return cmp.Compare(b.Time, a.Time) })
	if len(cases) > n {
		cases = cases[:n]
	}
	return cases
}

// Broken returns the failed and errored cases in report order.
func (r *Report) Broken() []TestCase {
	var out []TestCase
	for _, tc := range r.Cases {
		if tc.Outcome == Failed || tc.Outcome == Errored {
			out = append(out, tc)
		}
	}
	return out
}

// The XML shapes: https://github.com/testmoapp/junitxml and pytest's
// src/_pytest/junitxml.py. Suites may nest (generic JUnit); pytest writes
// <testsuites><testsuite name="pytest">.
type xmlSuites struct {
	Suites []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name   string     `xml:"name,attr"`
	File   string     `xml:"file,attr"`
	Suites []xmlSuite `xml:"testsuite"`
	Cases  []xmlCase  `xml:"testcase"`
}

type xmlCase struct {
	ClassName string      `xml:"classname,attr"`
	Name      string      `xml:"name,attr"`
	File      string      `xml:"file,attr"`
	Line      string      `xml:"line,attr"`
	Time      string      `xml:"time,attr"`
	Failures  []xmlResult `xml:"failure"`
	Errors    []xmlResult `xml:"error"`
	Skipped   []xmlResult `xml:"skipped"`
}

type xmlResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// ReadJUnit reads and parses the JUnit report at path.
func ReadJUnit(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read JUnit report %q: %w", path, err)
	}
	r, err := ParseJUnit(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("failed to parse JUnit report %q: %w", path, err)
	}
	return r, nil
}

// ParseJUnit parses a JUnit XML report whose root is <testsuites> or a
// single <testsuite>. Malformed XML is an error naming the line; it never
// panics.
func ParseJUnit(r io.Reader) (*Report, error) {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the report is empty: expected a <testsuites> or <testsuite> element")
		}
		if err != nil {
			return nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var suites []xmlSuite
		switch start.Name.Local {
		case "testsuites":
			var s xmlSuites
			if err := dec.DecodeElement(&s, &start); err != nil {
				return nil, err
			}
			suites = s.Suites
		case "testsuite":
			var s xmlSuite
			if err := dec.DecodeElement(&s, &start); err != nil {
				return nil, err
			}
			suites = []xmlSuite{s}
		default:
			return nil, fmt.Errorf("unexpected root element <%s>: expected <testsuites> or <testsuite>", start.Name.Local)
		}
		if err := checkTrailing(dec); err != nil {
			return nil, err
		}
		rep := &Report{}
		for _, s := range suites {
			rep.Pytest = rep.Pytest || s.Name == "pytest"
		}
		for _, s := range suites {
			rep.addSuite(s, "", s.Name == "pytest")
		}
		return rep, nil
	}
}

// checkTrailing reports a syntax error after the root element, so that a
// truncated or concatenated file is not silently half read.
func checkTrailing(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok {
			line, _ := dec.InputPos()
			return fmt.Errorf("line %d: unexpected second root element <%s>", line, se.Name.Local)
		}
	}
}

func (r *Report) addSuite(s xmlSuite, file string, pytest bool) {
	if s.File != "" {
		file = s.File
	}
	for _, child := range s.Suites {
		r.addSuite(child, file, pytest)
	}
	for _, c := range s.Cases {
		tc := TestCase{
			Suite:     s.Name,
			ClassName: strings.TrimSpace(c.ClassName),
			Name:      strings.TrimSpace(c.Name),
			File:      strings.TrimSpace(c.File),
			Time:      parseSeconds(c.Time),
			Outcome:   Passed,
		}
		if tc.File == "" {
			tc.File = file
		}
		if n, err := strconv.Atoi(strings.TrimSpace(c.Line)); err == nil && n >= 0 {
			tc.Line = n
			if pytest {
				// pytest writes the 0-based line of the test's def.
				tc.Line = n + 1
			}
		}
		switch {
		case len(c.Failures) > 0:
			tc.Outcome = Failed
			tc.Message, tc.Details = joinResults(c.Failures, c.Errors)
		case len(c.Errors) > 0:
			tc.Outcome = Errored
			tc.Message, tc.Details = joinResults(c.Errors, nil)
		case len(c.Skipped) > 0:
			tc.Outcome = Skipped
			tc.Message, tc.Details = joinResults(c.Skipped, nil)
		}
		r.Cases = append(r.Cases, tc)
	}
}

// joinResults returns the first result's message and all results' texts
// (a pytest test can fail and then error in tear-down).
func joinResults(first, more []xmlResult) (string, string) {
	all := append(append([]xmlResult(nil), first...), more...)
	msg := ""
	var texts []string
	for _, x := range all {
		if msg == "" {
			msg = strings.TrimSpace(x.Message)
		}
		if t := strings.TrimSpace(x.Text); t != "" {
			texts = append(texts, t)
		}
	}
	return msg, strings.Join(texts, "\n\n")
}

// parseSeconds reads a time attribute in seconds; anything unusable is zero.
func parseSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 1e9 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
