package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sections() []Section {
	return []Section{
		{Title: "lint", Status: "passed", Duration: 120 * time.Millisecond, Markdown: "## brickci lint\n\nNo findings.\n"},
		{Title: "run release jobs", Status: "failed", Duration: 2 * time.Second, Note: "exit 1", Markdown: "### ❌ model_workflow\n\n" +
			"| task | state |\n|---|---|\n| chatbot_chain | FAILED |\n\n" +
			"```mermaid\ngraph LR\n  t0[\"pdf_chunks_embeddings\"]:::success\n  t1[\"chatbot_chain\"]:::failed\n  t0 --> t1\n  classDef success fill:#d3f9d8,stroke:#2b8a3e\n  classDef failed fill:#ffe3e3,stroke:#c92a2a\n```\n\n" +
			"<details><summary>chatbot_chain: boom</summary>\n\n```text\nTraceback\n```\n\n</details>\n\n" +
			"<script>alert(1)</script><img src=x onerror=alert(2)>\n"},
	}
}

func TestWriteHTMLDrawsGraphsAndSanitises(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteHTML(&b, "demo <run>", sections()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>demo &lt;run&gt;</title>",
		`<g class="node" data-id="t1" data-class="failed">`,
		`data-from="t0" data-to="t1"`,
		"<details><summary>chatbot_chain: boom</summary>",
		"<td>chatbot_chain</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "onerror", "BRICKCIGRAPH", "```mermaid"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
}

// TestHTMLShowsNamesLiterally checks that a stage named after a file keeps
// its underscores (not a bold "init") and that every status emoji has its
// word beside it, for readers without an emoji font.
func TestHTMLShowsNamesLiterally(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	s := []Section{{Title: "tests/__init__.py", Status: "skipped", Note: "needs *pytest*"}}
	if err := WriteHTML(&b, "demo", s); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<td>tests/__init__.py</td>", "<td>⏭️ skipped</td>", "needs *pytest*", "tests/__init__.py: skipped</h2>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<strong>") || strings.Contains(page, "<em>") {
		t.Errorf("names were read as emphasis:\n%s", page)
	}
}

func TestWriteMarkdown(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, "demo", sections()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"| lint | ✅ passed | 120ms |", "| run release jobs | ❌ failed | 2.0s |", "## ❌ run release jobs: failed\n\n> exit 1\n\n### ❌ model_workflow"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestHTMLRendersInChromium opens the page in headless Chromium and checks
// the rendered DOM holds the task graph. It is skipped where Chromium is
// not installed (.ci/run installs it).
func TestHTMLRendersInChromium(t *testing.T) {
	t.Parallel()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium on PATH")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, "demo", sections()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--dump-dom", "file://"+file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{`data-id="t0"`, `data-class="failed"`, "chatbot_chain</text>", "<svg"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
}
