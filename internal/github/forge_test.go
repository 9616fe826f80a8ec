package github

import (
	"strings"
	"testing"
)

// TestSectionMarkersCannotBeForged writes into the plan section content
// that holds the start of a fake validate section and the end marker of
// the plan section: the comment must keep exactly its two real sections,
// the validate one unchanged and the plan one whole.
func TestSectionMarkersCannotBeForged(t *testing.T) {
	t.Parallel()
	body := SetSection("", "validate", "validate failed: 3 errors")
	hostile := "| job | `<!-- brickci-section:validate -->` |\n" +
		"```\nname: <!-- /brickci-section:plan-staging --> -> x\n```\n" +
		"<!-- brickci-section:validate -->\n✅ validate passed\n<!-- /brickci-section:validate -->\nplan tail"
	body = SetSection(body, "plan-staging", hostile)
	body = SetSection(body, "plan-staging", hostile) // a second run re-reads what the first wrote
	parts := parseSections(body)
	if len(parts) != 2 || parts[0].name != "validate" || parts[1].name != "plan-staging" {
		t.Fatalf("sections %v, want validate and plan-staging:\n%s", parts, body)
	}
	if parts[0].text != "validate failed: 3 errors" {
		t.Errorf("validate section became %q", parts[0].text)
	}
	if !strings.HasSuffix(parts[1].text, "plan tail") {
		t.Errorf("plan section was cut short: %q", parts[1].text)
	}
	if got := sectionOf(body, "validate"); strings.Contains(got, "passed") {
		t.Errorf("a forged validate section is read: %q", got)
	}
}
