package run

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
)

// progressEvents is how many of the newest events of an update are read at
// each poll; the whole event log of the update is read once it ends.
const progressEvents = 100

func (p Pipeline) bind(api APIs, r *Result) remote {
	r.Pipeline = p
	return &pipelineRemote{api: api.Pipelines, flows: map[string]*flow{}}
}

// pipelineRemote drives one update of a pipeline through the Pipelines
// API. The update's state comes from get-update; its flows, which the
// update itself does not list, from its flow_progress events.
type pipelineRemote struct {
	api   pipelines.PipelinesInterface
	flows map[string]*flow
	order []string // flow names in the order their first event came
}

// flow is what the events told about one flow so far.
type flow struct {
	status       string
	at           time.Time // of the event that gave status
	seq          int64
	started, end time.Time
	message      string
	err, trace   string
}

func (p *pipelineRemote) start(ctx context.Context, r *Result, opts Options) error {
	resp, err := p.api.StartUpdate(ctx, pipelines.StartUpdate{PipelineId: r.Pipeline.ID, FullRefresh: opts.FullRefresh})
	if errors.Is(err, apierr.ErrResourceConflict) {
		// Databricks refuses a second update while one is active.
		return fmt.Errorf("failed to start pipeline %q (%s), which is already running an update (wait for it to end or stop it): %w", r.Pipeline.Key, r.Pipeline.ID, err)
	}
	if err != nil {
		return fmt.Errorf("failed to start pipeline %q (%s): %w", r.Pipeline.Key, r.Pipeline.ID, err)
	}
	r.UpdateID = resp.UpdateId
	r.URL = updateURL(opts.Host, r.Pipeline.ID, resp.UpdateId)
	return nil
}

func (p *pipelineRemote) poll(ctx context.Context, r *Result, opts Options) (bool, error) {
	resp, err := p.api.GetUpdate(ctx, pipelines.GetUpdateRequest{PipelineId: r.Pipeline.ID, UpdateId: r.UpdateID})
	if err != nil {
		return false, fmt.Errorf("failed to get update %s of %s: %w", r.UpdateID, r.Pipeline.Key, err)
	}
	now := opts.Now()
	var st pipelines.UpdateInfoState
	if u := resp.Update; u != nil {
		st = u.State
		if u.CreationTime > 0 {
			r.apiStarted = time.UnixMilli(u.CreationTime)
			r.Duration = now.Sub(r.apiStarted)
		}
	}
	r.State = string(st)
	done := updateDone(st)
	// Once the update ended, its whole event log gives the final status of
	// every flow; while it runs the newest events are enough for progress.
	evs, err := p.events(ctx, r, done)
	if err != nil {
		return false, err
	}
	p.apply(r, evs, now)
	if done {
		r.Result = string(st)
		if last := latest(evs); !last.IsZero() && !r.apiStarted.IsZero() {
			r.Duration = last.Sub(r.apiStarted)
		}
		if !r.Succeeded() {
			r.Message = updateMessage(evs)
		}
	}
	return done, nil
}

func (p *pipelineRemote) finish(context.Context, *Result) error { return nil }

func (p *pipelineRemote) cancel(ctx context.Context, r *Result, opts Options) {
	// Stop stops whatever update is active: make sure it is still ours.
	if resp, err := p.api.GetUpdate(ctx, pipelines.GetUpdateRequest{PipelineId: r.Pipeline.ID, UpdateId: r.UpdateID}); err == nil && resp.Update != nil && updateDone(resp.Update.State) {
		fmt.Fprintf(opts.Out, "update %s of %s had already ended %s\n", r.UpdateID, r.Pipeline.Key, resp.Update.State)
		return
	}
	if _, err := p.api.Stop(ctx, pipelines.StopRequest{PipelineId: r.Pipeline.ID}); err != nil {
		fmt.Fprintf(opts.Out, "failed to stop update %s of %s: %v\n", r.UpdateID, r.Pipeline.Key, err)
		return
	}
	fmt.Fprintf(opts.Out, "stopped update %s of %s\n", r.UpdateID, r.Pipeline.Key)
	// Read the flows once more so the report shows them stopped, not as
	// they were at the last poll.
	if evs, err := p.events(ctx, r, false); err == nil {
		p.apply(r, evs, opts.Now())
	}
}

func updateDone(st pipelines.UpdateInfoState) bool {
	switch st {
	case pipelines.UpdateInfoStateCompleted, pipelines.UpdateInfoStateFailed, pipelines.UpdateInfoStateCanceled:
		return true
	}
	return false
}

// events lists the update's events, newest first: all of them, or only
// the newest progressEvents.
func (p *pipelineRemote) events(ctx context.Context, r *Result, all bool) ([]pipelines.PipelineEvent, error) {
	it := p.api.ListPipelineEvents(ctx, pipelines.ListPipelineEventsRequest{
		PipelineId: r.Pipeline.ID, Filter: fmt.Sprintf("update_id = '%s'", r.UpdateID), MaxResults: progressEvents,
	})
	var out []pipelines.PipelineEvent
	// HasNext answers true after a failed request so that Next reports it.
	for (all || len(out) < progressEvents) && it.HasNext(ctx) {
		ev, err := it.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("failed to list the events of update %s of %s: %w", r.UpdateID, r.Pipeline.Key, err)
		}
		if ev.Origin != nil && ev.Origin.UpdateId != "" && ev.Origin.UpdateId != r.UpdateID {
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

// flowStatus reads a flow_progress event's message, e.g. "Flow 'ingest' is
// RUNNING." or "Flow 'ingest' has FAILED.": the flow's name and status.
// The SDK does not model the event's details, where the status also is.
var flowStatus = regexp.MustCompile(`^Flow '(.*)' (?:is|has(?: been)?) ([A-Za-z_]+)`)

// terminalFlow reports whether a flow status is final for the update.
func terminalFlow(status string) bool {
	switch status {
	case "COMPLETED", "FAILED", "SKIPPED", "STOPPED", "EXCLUDED", "CANCELED", "IDLE":
		return true
	}
	return false
}

// apply folds an update's events into the flows it knows and rewrites
// r.Tasks from them: per flow the status of its newest event, with the
// error of a failed one. Events may come in any order and more than once.
func (p *pipelineRemote) apply(r *Result, evs []pipelines.PipelineEvent, now time.Time) {
	evs = append([]pipelines.PipelineEvent(nil), evs...)
	sort.SliceStable(evs, func(i, j int) bool { return seqOf(evs[i]) < seqOf(evs[j]) })
	for _, ev := range evs {
		if ev.EventType != "flow_progress" {
			continue
		}
		m := flowStatus.FindStringSubmatch(ev.Message)
		if m == nil {
			continue
		}
		name, status := m[1], strings.ToUpper(m[2])
		if ev.Origin != nil && ev.Origin.FlowName != "" {
			name = ev.Origin.FlowName
		}
		at := eventTime(ev)
		f, ok := p.flows[name]
		if !ok {
			f = &flow{}
			p.flows[name] = f
			p.order = append(p.order, name)
		}
		if (status == "RUNNING" || status == "STARTING") && (f.started.IsZero() || at.Before(f.started)) {
			f.started = at
		}
		if f.status != "" && (at.Before(f.at) || at.Equal(f.at) && seqOf(ev) < f.seq) {
			continue // older than what is known
		}
		f.status, f.at, f.seq, f.message = status, at, seqOf(ev), ev.Message
		f.err, f.trace, f.end = "", "", time.Time{}
		if terminalFlow(status) {
			f.end = at
		}
		if ev.Error != nil || ev.Level == pipelines.EventLevelError {
			f.err, f.trace = errorText(ev)
		}
	}
	r.Tasks = r.Tasks[:0]
	for _, name := range p.order {
		f := p.flows[name]
		t := Task{Key: name, State: f.status, Message: f.message, Error: f.err, Trace: f.trace}
		if terminalFlow(f.status) {
			t.Result = f.status
		}
		if !f.started.IsZero() {
			end := f.end
			if end.IsZero() {
				end = now
			}
			t.Duration = end.Sub(f.started)
		}
		r.Tasks = append(r.Tasks, t)
	}
}

// errorText is the error of an event: the message of its first exception
// (the event's own message when it has none), and every exception with its
// stack as the trace.
func errorText(ev pipelines.PipelineEvent) (msg, trace string) {
	msg = ev.Message
	if ev.Error == nil || len(ev.Error.Exceptions) == 0 {
		return msg, ""
	}
	var b strings.Builder
	for i, x := range ev.Error.Exceptions {
		if i == 0 && x.Message != "" {
			msg = x.Message
		}
		fmt.Fprintf(&b, "%s: %s\n", x.ClassName, x.Message)
		for _, f := range x.Stack {
			fmt.Fprintf(&b, "  at %s.%s(%s:%d)\n", f.DeclaringClass, f.MethodName, f.FileName, f.LineNumber)
		}
	}
	return msg, strings.TrimRight(b.String(), "\n")
}

// updateMessage explains an update that did not complete: the error of
// its newest error event that is not a flow's (flows are reported on their
// own), else its newest update_progress message.
func updateMessage(evs []pipelines.PipelineEvent) string {
	var progress string
	var progressSeq, errSeq int64 = -1, -1
	var errMsg string
	for _, ev := range evs {
		s := seqOf(ev)
		switch {
		case ev.EventType == "flow_progress":
		case ev.Error != nil || ev.Level == pipelines.EventLevelError:
			if s > errSeq {
				errSeq = s
				errMsg, _ = errorText(ev)
			}
		case ev.EventType == "update_progress" && s > progressSeq:
			progressSeq, progress = s, ev.Message
		}
	}
	if errMsg != "" {
		return errMsg
	}
	return progress
}

// seqOf orders events: by the control plane's sequence number when the API
// gives it, else by time.
func seqOf(ev pipelines.PipelineEvent) int64 {
	if ev.Sequence != nil && ev.Sequence.ControlPlaneSeqNo != 0 {
		return ev.Sequence.ControlPlaneSeqNo
	}
	return eventTime(ev).UnixNano()
}

func eventTime(ev pipelines.PipelineEvent) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, ev.Timestamp)
	return t
}

// latest is the time of the newest event, zero without any.
func latest(evs []pipelines.PipelineEvent) time.Time {
	var last time.Time
	for _, ev := range evs {
		if t := eventTime(ev); t.After(last) {
			last = t
		}
	}
	return last
}

// updateURL links a pipeline update in the workspace UI, or "" without a
// host: the API returns no page URL for updates.
func updateURL(host, pipelineID, updateID string) string {
	if host == "" || updateID == "" {
		return ""
	}
	return fmt.Sprintf("%s/pipelines/%s/updates/%s", strings.TrimRight(host, "/"), pipelineID, updateID)
}
