package testrun

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// pyLocation matches pytest's traceback location lines, such as
// "tests/unit/test_chunking.py:42: AssertionError" or
// "tests/unit/test_chunking.py:42: in test_split".
var pyLocation = regexp.MustCompile(`(?m)^\s*([^\s:][^:\n]*\.py):(\d+): `)

// Locate fills in each broken case's file and line where the report leaves
// them out. exists reports whether a slash path relative to the directory
// the tests ran in is a file.
//
// pytest's default (xunit2) report has neither: the file is derived from the
// class name (tests.unit.test_x or tests.unit.test_x.TestClass →
// tests/unit/test_x.py, the longest prefix that exists), and the line from
// the traceback, which ends with "path.py:LINE: Error". A traceback line is
// preferred to the report's line attribute, which names the test's def
// rather than the failing statement.
func (r *Report) Locate(exists func(string) bool) {
	for i := range r.Cases {
		tc := &r.Cases[i]
		if tc.Outcome != Failed && tc.Outcome != Errored {
			continue
		}
		if tc.File == "" {
			tc.File = fileFromClassName(tc.ClassName, exists, r.Pytest)
		}
		tc.File = cleanRel(tc.File)
		if file, line := lineFromDetails(tc.Details, tc.File); line > 0 {
			tc.File, tc.Line = file, line
		}
	}
}

// fileFromClassName turns a dotted Python class name into the module's
// file. Without a matching file it guesses only for pytest reports, by
// dropping trailing capitalised parts (class names).
func fileFromClassName(className string, exists func(string) bool, pytest bool) string {
	if className == "" || strings.ContainsAny(className, " /\\") {
		return ""
	}
	parts := strings.Split(className, ".")
	for k := len(parts); k > 0; k-- {
		p := strings.Join(parts[:k], "/") + ".py"
		if exists != nil && exists(p) {
			return p
		}
	}
	if !pytest {
		return ""
	}
	k := len(parts)
	for k > 1 && parts[k-1] != "" && parts[k-1][0] >= 'A' && parts[k-1][0] <= 'Z' {
		k--
	}
	return strings.Join(parts[:k], "/") + ".py"
}

// lineFromDetails finds the failing line in a pytest traceback: the last
// location in the test's own file, or when the file is unknown, the last
// relative location outside installed packages.
func lineFromDetails(details, file string) (string, int) {
	matches := pyLocation.FindAllStringSubmatch(details, -1)
	for i := len(matches) - 1; i >= 0; i-- {
		p := cleanRel(matches[i][1])
		n, err := strconv.Atoi(matches[i][2])
		if err != nil || n <= 0 {
			continue
		}
		if file != "" {
			if p == file || strings.HasSuffix(p, "/"+file) {
				return file, n
			}
			continue
		}
		if !path.IsAbs(p) && !strings.HasPrefix(p, "../") && !strings.Contains(p, "site-packages/") {
			return p, n
		}
	}
	return file, 0
}

// cleanRel normalises a report path to a clean slash path.
func cleanRel(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(strings.ReplaceAll(p, "\\", "/"))
}
