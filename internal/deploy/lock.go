package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"
)

// lockInfo is deploy.lock, in the Databricks CLI's shape so that the CLI and
// brickci exclude each other.
type lockInfo struct {
	ID              string    `json:"ID"`
	AcquisitionTime time.Time `json:"AcquisitionTime"`
	IsForced        bool      `json:"IsForced"`
	User            string    `json:"User"`
}

// errLockUnreadable marks a deploy.lock whose content is not a lock: it is
// nobody's, so only --force-lock may replace it.
var errLockUnreadable = errors.New("the deploy lock cannot be read")

// LockHeldError is returned when another deployer holds the lock beyond the
// lock timeout.
type LockHeldError struct {
	User  string
	Since time.Time
	Age   time.Duration
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("deploy lock held by %s since %s (%s ago); rerun with --force-lock to take it over",
		e.User, e.Since.UTC().Format(time.RFC3339), e.Age.Round(time.Second))
}

// locker acquires and releases deploy.lock in one state path.
type locker struct {
	fs        workspaceFS
	statePath string
	id        string
	user      string
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	// attempted is true once a lock write was sent, even if its answer was
	// lost; release then checks whether the lock became ours.
	attempted bool
	// checked, when set, is the lock as read during the deploy's last
	// write (readWhile); release uses it instead of reading again.
	checked *lockRead
}

// lockRead is the outcome of reading the lock.
type lockRead struct {
	info lockInfo
	err  error
}

// readWhile runs write while it reads the lock for release, so that
// releasing after a deploy's last write takes one round trip instead of
// two. The read is as recent as the one release would make: both come
// right before the delete, with no step of the deploy between.
func (l *locker) readWhile(ctx context.Context, write func(context.Context) error) error {
	done := make(chan lockRead, 1)
	go func() {
		info, err := l.read(ctx)
		done <- lockRead{info, err}
	}()
	err := write(ctx)
	r := <-done
	if r.err == nil || isNotFound(r.err) || errors.Is(r.err, errLockUnreadable) {
		l.checked = &r
	}
	return err
}

func (l *locker) path() string { return path.Join(l.statePath, lockFile) }

// acquire takes the lock, waiting up to timeout (polling every poll) while
// someone else holds it. With force it takes over a held lock. Once the
// lock is written, during (when not nil) runs while the lock is read back,
// so that what a deploy reads first costs no extra round trip; its error
// counts only when the lock turns out to be ours.
func (l *locker) acquire(ctx context.Context, force bool, timeout, poll time.Duration, during func(context.Context) error) error {
	// Waiting is measured as the sum of the pauses, so that it does not
	// depend on the clock used for timestamps.
	var waited time.Duration
	madeDir := false
	for {
		info := lockInfo{ID: l.id, AcquisitionTime: l.now().UTC(), User: l.user}
		l.attempted = true
		err := l.write(ctx, info, false)
		switch {
		case err == nil:
			return l.confirmWith(ctx, during)
		case isNotFound(err) && !madeDir:
			// First deploy: the state directory does not exist yet.
			madeDir = true
			if err := l.fs.mkdirs(ctx, l.statePath); err != nil {
				return fmt.Errorf("failed to create the state directory %q: %w", l.statePath, err)
			}
			continue
		case !isExists(err):
			return fmt.Errorf("failed to create the deploy lock %q: %w", l.path(), err)
		}
		holder, err := l.read(ctx)
		unreadable := errors.Is(err, errLockUnreadable)
		switch {
		case isNotFound(err):
			continue // released between our write and read
		case unreadable && !force:
			// Nothing can release a lock no deployer can read; waiting
			// would only delay the same answer.
			return fmt.Errorf("%w; if no deploy is running, rerun with --force-lock to take it over", err)
		case err != nil && !unreadable:
			return fmt.Errorf("failed to read the deploy lock %q: %w", l.path(), err)
		case !unreadable && holder.ID == l.id:
			return run(ctx, during)
		}
		if force {
			info.IsForced = true
			if err := l.write(ctx, info, true); err != nil {
				return fmt.Errorf("failed to take over the deploy lock %q: %w", l.path(), err)
			}
			return l.confirmWith(ctx, during)
		}
		if waited >= timeout {
			return &LockHeldError{User: holder.User, Since: holder.AcquisitionTime, Age: l.now().Sub(holder.AcquisitionTime)}
		}
		pause := min(poll, timeout-waited)
		if err := l.sleep(ctx, pause); err != nil {
			return fmt.Errorf("failed to acquire the deploy lock: %w", err)
		}
		waited += pause
	}
}

// confirmWith reads the lock back, since two deployers may both believe
// they wrote it, and runs during at the same time.
func (l *locker) confirmWith(ctx context.Context, during func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- run(ctx, during) }()
	got, err := l.read(ctx)
	duringErr := <-done
	if err == nil && got.ID == l.id {
		return duringErr
	}
	if err != nil {
		return fmt.Errorf("failed to read back the deploy lock %q: %w", l.path(), err)
	}
	if got.ID != l.id {
		return &LockHeldError{User: got.User, Since: got.AcquisitionTime, Age: l.now().Sub(got.AcquisitionTime)}
	}
	return nil
}

func (l *locker) write(ctx context.Context, info lockInfo, overwrite bool) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return l.fs.write(ctx, l.path(), data, "", overwrite)
}

func (l *locker) read(ctx context.Context) (lockInfo, error) {
	var info lockInfo
	data, err := l.fs.read(ctx, l.path())
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("%w: %q is not valid JSON (%v)", errLockUnreadable, l.path(), err)
	}
	return info, nil
}

// release deletes the lock if it is still ours. It runs on a fresh
// short-lived context so that a cancelled deploy still releases its lock
// (Actions kills the step about 10 s after cancelling it).
func (l *locker) release(ctx context.Context) error {
	if !l.attempted {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var got lockInfo
	var err error
	if l.checked != nil {
		got, err = l.checked.info, l.checked.err
	} else {
		got, err = l.read(ctx)
		if err != nil && !isNotFound(err) && ctx.Err() == nil {
			got, err = l.read(ctx) // one retry: a lost answer must not leave the lock behind
		}
	}
	switch {
	case isNotFound(err), errors.Is(err, errLockUnreadable):
		// Gone, or replaced by something that is not our lock.
		return nil
	case err != nil:
		return fmt.Errorf("failed to read the deploy lock %q before releasing it: %w", l.path(), err)
	case got.ID != l.id:
		return nil // taken over with --force-lock; it is no longer ours to delete
	}
	if err := l.fs.remove(ctx, l.path(), false); err != nil {
		return fmt.Errorf("failed to release the deploy lock %q: %w", l.path(), err)
	}
	return nil
}

// run calls fn unless it is nil.
func run(ctx context.Context, fn func(context.Context) error) error {
	if fn == nil {
		return nil
	}
	return fn(ctx)
}
