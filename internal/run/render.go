package run

import (
	"fmt"
	"io"
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/mermaid"
)

// excerptLines is how many lines of a failed task's output or trace the
// reports keep; the full text is in the run page.
const excerptLines = 20

// WriteText writes a plain summary: one line per job or pipeline, then one
// per task or flow.
func WriteText(w io.Writer, results []Result) {
	for _, r := range results {
		fmt.Fprintf(w, "%s: %s in %s %s\n", r.Name(), orDash(r.Result), diag.FormatDuration(r.Duration), r.URL)
		if r.Message != "" && !r.Succeeded() {
			fmt.Fprintf(w, "  %s\n", r.Message)
		}
		for _, t := range r.Tasks {
			fmt.Fprintf(w, "  %-28s %-16s %8s\n", t.Key, orDash(taskStateWord(t)), taskDuration(t))
			if t.Error != "" {
				fmt.Fprintf(w, "    error: %s\n", firstLine(t.Error))
			}
		}
	}
}

// Findings turns every failed task (and every job that did not succeed
// without a failed task to blame) into an error finding for annotations;
// for pipelines, every failed flow and every update that did not complete
// without a failed flow to blame.
func Findings(results []Result) diag.List {
	var l diag.List
	for _, r := range results {
		if r.IsPipeline() {
			l = append(l, pipelineFindings(r)...)
			continue
		}
		blamed := false
		for _, t := range r.Tasks {
			if t.Result != "FAILED" && t.Result != "TIMEDOUT" {
				continue
			}
			blamed = true
			msg := fmt.Sprintf("job %q task %q %s", r.Job.Key, t.Key, strings.ToLower(t.Result))
			if t.Error != "" {
				msg += ": " + firstLine(t.Error)
			}
			if t.URL != "" {
				msg += " (" + t.URL + ")"
			}
			l = append(l, diag.Finding{Severity: diag.Error, Rule: "task-failed", Message: msg})
		}
		if !blamed && r.Result != "" && !r.Succeeded() {
			msg := fmt.Sprintf("job %q run %d ended %s", r.Job.Key, r.RunID, r.Result)
			if r.Message != "" {
				msg += ": " + r.Message
			}
			l = append(l, diag.Finding{Severity: diag.Error, Rule: "run-failed", Message: msg})
		}
	}
	return l
}

// WriteMarkdown writes the step summary: per job a table of tasks (state,
// duration, link), a mermaid graph of the tasks coloured by result, and for
// each failed task its error, trace and output excerpt. A pipeline gets a
// table of its flows (state, duration) and each failed flow's error.
func WriteMarkdown(w io.Writer, results []Result) {
	for _, r := range results {
		fmt.Fprintf(w, "### %s %s %s\n\n", resultIcon(r.Result), orDash(r.Result), diag.MarkdownCode(r.Name()))
		if r.IsPipeline() {
			writePipelineMarkdown(w, r)
			continue
		}
		fmt.Fprintf(w, "Run %s: **%s** in %s.", runLink(r.RunID, r.URL), orDash(r.Result), diag.FormatDuration(r.Duration))
		if r.Message != "" && !r.Succeeded() {
			fmt.Fprintf(w, " %s", diag.EscapeMarkdown(r.Message))
		}
		fmt.Fprint(w, "\n\n")
		if len(r.Tasks) == 0 {
			continue
		}
		fmt.Fprint(w, "| task | state | duration | run |\n|---|---|---|---|\n")
		for _, t := range r.Tasks {
			link := "-"
			if t.URL != "" {
				link = runLink(t.RunID, t.URL)
			}
			fmt.Fprintf(w, "| %s | %s %s | %s | %s |\n", diag.MarkdownCode(t.Key), resultIcon(taskStateWord(t)), orDash(taskStateWord(t)), taskDuration(t), link)
		}
		fmt.Fprint(w, "\n")
		writeMermaid(w, r.Tasks)
		writeDetails(w, r.Tasks)
	}
}

// writeDetails writes, for each task or flow with an error, trace or
// output, a collapsed section holding excerpts of them.
func writeDetails(w io.Writer, tasks []Task) {
	for _, t := range tasks {
		if t.Error == "" && t.Trace == "" && t.Output == "" {
			continue
		}
		fmt.Fprintf(w, "<details><summary><code>%s</code>: %s</summary>\n\n", diag.EscapeHTML(t.Key), diag.EscapeHTML(firstLine(t.Error)))
		for _, part := range []struct{ name, text string }{{"trace", t.Trace}, {"output", t.Output}} {
			if part.text == "" {
				continue
			}
			fmt.Fprintf(w, "%s:\n\n%s\n", part.name, diag.MarkdownFence("text", excerpt(part.text)))
		}
		fmt.Fprint(w, "</details>\n\n")
	}
}

// writePipelineMarkdown writes the body of a pipeline's section: the
// update, then its flows. Flows have no pages or dependencies of their own
// in the API, so there is no link column and no graph.
func writePipelineMarkdown(w io.Writer, r Result) {
	fmt.Fprintf(w, "Update %s: **%s** in %s.", updateLink(r.UpdateID, r.URL), orDash(r.Result), diag.FormatDuration(r.Duration))
	if r.Message != "" && !r.Succeeded() {
		fmt.Fprintf(w, " %s", diag.EscapeMarkdown(r.Message))
	}
	fmt.Fprint(w, "\n\n")
	if len(r.Tasks) == 0 {
		return
	}
	fmt.Fprint(w, "| flow | state | duration |\n|---|---|---|\n")
	for _, t := range r.Tasks {
		fmt.Fprintf(w, "| %s | %s %s | %s |\n", diag.MarkdownCode(t.Key), resultIcon(taskStateWord(t)), orDash(taskStateWord(t)), taskDuration(t))
	}
	fmt.Fprint(w, "\n")
	writeDetails(w, r.Tasks)
}

// pipelineFindings reports a pipeline update: each failed flow, or the
// update itself when it did not complete and no flow failed.
func pipelineFindings(r Result) diag.List {
	var l diag.List
	for _, t := range r.Tasks {
		if t.Result != "FAILED" {
			continue
		}
		msg := fmt.Sprintf("pipeline %q flow %q failed", r.Key(), t.Key)
		if t.Error != "" {
			msg += ": " + firstLine(t.Error)
		}
		if r.URL != "" {
			msg += " (" + r.URL + ")"
		}
		l = append(l, diag.Finding{Severity: diag.Error, Rule: "flow-failed", Message: msg})
	}
	if len(l) == 0 && r.Result != "" && !r.Succeeded() {
		msg := fmt.Sprintf("pipeline %q update %s ended %s", r.Key(), r.UpdateID, r.Result)
		if r.Message != "" {
			msg += ": " + firstLine(r.Message)
		}
		if r.URL != "" {
			msg += " (" + r.URL + ")"
		}
		l = append(l, diag.Finding{Severity: diag.Error, Rule: "update-failed", Message: msg})
	}
	return l
}

// writeMermaid draws the task graph with one colour per outcome.
func writeMermaid(w io.Writer, tasks []Task) {
	g := mermaid.Graph{Direction: "LR"}
	ids := map[string]string{}
	for i, t := range tasks {
		ids[t.Key] = fmt.Sprintf("t%d", i)
		g.Nodes = append(g.Nodes, mermaid.Node{ID: ids[t.Key], Label: t.Key, Class: class(taskStateWord(t))})
	}
	for _, t := range tasks {
		for _, d := range t.DependsOn {
			if id, ok := ids[d]; ok {
				g.Edges = append(g.Edges, mermaid.Edge{From: id, To: ids[t.Key]})
			}
		}
	}
	g.AddClass("success", "fill:#d3f9d8,stroke:#2b8a3e")
	g.AddClass("failed", "fill:#ffe3e3,stroke:#c92a2a")
	g.AddClass("skipped", "fill:#f1f3f5,stroke:#868e96")
	g.AddClass("running", "fill:#fff3bf,stroke:#e67700")
	fmt.Fprintf(w, "```mermaid\n%s```\n\n", g.String())
}

func class(state string) string {
	switch state {
	case "SUCCESS", "COMPLETED":
		return "success"
	case "FAILED", "TIMEDOUT", "INTERNAL_ERROR":
		return "failed"
	case "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "CANCELED", "SKIPPED", "EXCLUDED", "STOPPED":
		return "skipped"
	default:
		return "running"
	}
}

func resultIcon(state string) string {
	switch class(state) {
	case "success":
		return "✅"
	case "failed":
		return "❌"
	case "skipped":
		return "⏭️"
	default:
		return "⏳"
	}
}

func excerpt(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= excerptLines {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:excerptLines], "\n") + fmt.Sprintf("\n… %d more lines", len(lines)-excerptLines)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// taskDuration is a task's run time, or "-" for a task that never ran
// (skipped because of an upstream failure or a cancel).
func taskDuration(t Task) string {
	if t.Duration == 0 && class(taskStateWord(t)) == "skipped" {
		return "-"
	}
	return diag.FormatDuration(t.Duration)
}

// runLink is a markdown link to a run page, or the bare run id when the
// URL is unknown.
func runLink(id int64, url string) string {
	if url == "" {
		return fmt.Sprint(id)
	}
	return fmt.Sprintf("[%d](%s)", id, url)
}

// updateLink is a markdown link to a pipeline update, or the bare update
// id when the URL is unknown.
func updateLink(id, url string) string {
	if url == "" {
		return diag.MarkdownCode(id)
	}
	return fmt.Sprintf("[%s](%s)", id, url)
}
