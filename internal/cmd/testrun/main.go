// Command testrun is `go test -json` for make test, less the relinks: it builds every test
// binary with one `go test -c -o .build/test/bin/` (go leaves an up-to-date binary alone, where
// `go test` links each of the ~30 into a temporary directory on every run: ~25 s of CPU on 2
// cores), then runs them N at a time, each in its package directory through `go tool
// test2json`, and writes the events `go test -json` would, with its "ok"/"FAIL" line per
// package, on stdout (for internal/cmd/testsum).
//
//	testrun [-p 4] [-parallel 8] [-run regexp] [-timeout 10m] [-cpu] [packages]
//
// Packages run in the order given (duplicates once), like go test's. It exits 1 when a package
// failed or did not build, 2 on bad flags.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// binDir is where the test binaries stay between runs (relative to the module root, the
// directory make runs in).
const binDir = ".build/test/bin"

type pkg struct {
	ImportPath string
	Dir        string
	HasTests   bool
}

func main() {
	fs := flag.NewFlagSet("testrun", flag.ContinueOnError)
	p := fs.Int("p", 4, "test binaries run at once")
	parallel := fs.Int("parallel", 8, "-test.parallel of each binary")
	run := fs.String("run", "", "-test.run of each binary")
	timeout := fs.Duration("timeout", 10*time.Minute, "-test.timeout of each binary (go test's default)")
	cpu := fs.Bool("cpu", false, "print each package's CPU time (its test binary and what it waited for: servers, Node) to stderr at the end, most first")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *p < 1 || *parallel < 1 {
		fmt.Fprintf(os.Stderr, "testrun: -p %d and -parallel %d: both must be at least 1\n", *p, *parallel)
		os.Exit(2)
	}
	patterns := fs.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	pkgs, err := list(patterns)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testrun: %v\n", err)
		os.Exit(1)
	}
	bins, err := build(pkgs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testrun: %v\n", err)
		os.Exit(1)
	}
	args := []string{"-test.v=test2json", "-test.paniconexit0", "-test.count=1",
		"-test.timeout=" + timeout.String(), fmt.Sprintf("-test.parallel=%d", *parallel)}
	if *run != "" {
		args = append(args, "-test.run="+*run)
	}
	out := &lineWriter{w: bufio.NewWriter(os.Stdout)}
	slots := make(chan struct{}, *p)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := false
	used := map[string]time.Duration{}
	for _, pk := range pkgs {
		if !pk.HasTests {
			out.event(event{Action: "start", Package: pk.ImportPath})
			out.event(event{Action: "output", Package: pk.ImportPath, Output: fmt.Sprintf("?   \t%s\t[no test files]\n", pk.ImportPath)})
			out.event(event{Action: "skip", Package: pk.ImportPath})
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			ok, d := runOne(out, pk, bins[pk.ImportPath], args)
			mu.Lock()
			defer mu.Unlock()
			failed = failed || !ok
			used[pk.ImportPath] = d
		}()
	}
	wg.Wait()
	out.flush()
	if *cpu {
		report(os.Stderr, used)
	}
	if failed {
		os.Exit(1)
	}
}

// list resolves the patterns in order, each package once.
func list(patterns []string) ([]pkg, error) {
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Dir,TestGoFiles,XTestGoFiles,Error"}, patterns...)...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v", strings.Join(patterns, " "), err)
	}
	var pkgs []pkg
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var l struct {
			ImportPath, Dir           string
			TestGoFiles, XTestGoFiles []string
			Error                     *struct{ Err string }
		}
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("go list: %v", err)
		}
		if l.Error != nil {
			return nil, fmt.Errorf("go list: %s", l.Error.Err)
		}
		if seen[l.ImportPath] {
			continue
		}
		seen[l.ImportPath] = true
		pkgs = append(pkgs, pkg{ImportPath: l.ImportPath, Dir: l.Dir, HasTests: len(l.TestGoFiles)+len(l.XTestGoFiles) > 0})
	}
	return pkgs, nil
}

// build compiles the test binaries of the packages with tests into binDir, one go command per
// directory (it builds packages in parallel and relinks only what changed), and returns them by
// package. go test -c names a binary after the package's last path element, so packages whose
// last elements are equal (validate/canary and a future constructs/canary test) each get a
// directory of their own.
func build(pkgs []pkg) (map[string]string, error) {
	bins := map[string]string{}
	var dirs [][]string // dirs[i]: the packages built into binDir/<i> (binDir itself for 0)
	taken := []map[string]bool{}
	for _, p := range pkgs {
		if !p.HasTests {
			continue
		}
		name := filepath.Base(p.ImportPath)
		i := 0
		for i < len(taken) && taken[i][name] {
			i++
		}
		if i == len(taken) {
			taken, dirs = append(taken, map[string]bool{}), append(dirs, nil)
		}
		taken[i][name] = true
		dirs[i] = append(dirs[i], p.ImportPath)
		dir := binDir
		if i > 0 {
			dir = filepath.Join(binDir, fmt.Sprint(i))
		}
		abs, err := filepath.Abs(filepath.Join(dir, name+".test"))
		if err != nil {
			return nil, err
		}
		bins[p.ImportPath] = abs
	}
	for i, list := range dirs {
		dir := binDir
		if i > 0 {
			dir = filepath.Join(binDir, fmt.Sprint(i))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		cmd := exec.Command("go", append([]string{"test", "-c", "-o", dir + "/"}, list...)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go test -c (building the test binaries): %v", err)
		}
	}
	return bins, nil
}

// report prints the CPU time of each package, most first, and the total.
func report(w io.Writer, used map[string]time.Duration) {
	pkgs := make([]string, 0, len(used))
	var total time.Duration
	for p, d := range used {
		pkgs = append(pkgs, p)
		total += d
	}
	sort.Slice(pkgs, func(i, j int) bool { return used[pkgs[i]] > used[pkgs[j]] })
	fmt.Fprintf(w, "testrun: CPU per package (user+system, the test binary and the processes it waited for):\n")
	for _, p := range pkgs {
		fmt.Fprintf(w, "  %7.1fs  %s\n", used[p].Seconds(), p)
	}
	fmt.Fprintf(w, "  %7.1fs  total\n", total.Seconds())
}

// runOne runs one package's test binary through test2json in its directory, passing its events
// on and holding back the package's own pass/fail event until go test's summary line is out.
// It also returns the CPU time the run used (test2json, the binary and what they waited for).
func runOne(out *lineWriter, pk pkg, bin string, args []string) (bool, time.Duration) {
	start := time.Now()
	cmd := exec.Command("go", append([]string{"tool", "test2json", "-t", "-p", pk.ImportPath, bin}, args...)...)
	cmd.Dir = pk.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		out.event(event{Action: "output", Package: pk.ImportPath, Output: err.Error() + "\n"})
		out.event(event{Action: "fail", Package: pk.ImportPath})
		return false, 0
	}
	if err := cmd.Start(); err != nil {
		out.event(event{Action: "output", Package: pk.ImportPath, Output: err.Error() + "\n"})
		out.event(event{Action: "fail", Package: pk.ImportPath})
		return false, 0
	}
	var final *event
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if json.Unmarshal(line, &e) == nil && e.Test == "" && (e.Action == "pass" || e.Action == "fail") {
			final = &e
			continue
		}
		out.line(line)
	}
	werr := cmd.Wait()
	elapsed := time.Since(start).Seconds()
	var used time.Duration
	if st := cmd.ProcessState; st != nil {
		used = st.UserTime() + st.SystemTime()
	}
	if s := stderr.String(); s != "" {
		out.event(event{Action: "output", Package: pk.ImportPath, Output: s})
	}
	ok := werr == nil && final != nil && final.Action == "pass"
	if ok {
		out.event(event{Action: "output", Package: pk.ImportPath, Output: fmt.Sprintf("ok  \t%s\t%.3fs\n", pk.ImportPath, elapsed)})
		out.event(*final)
		return true, used
	}
	msg := fmt.Sprintf("FAIL\t%s\t%.3fs\n", pk.ImportPath, elapsed)
	if werr != nil && final == nil {
		msg = fmt.Sprintf("%s: %v\n", filepath.Base(bin), werr) + msg
	}
	out.event(event{Action: "output", Package: pk.ImportPath, Output: msg})
	out.event(event{Action: "fail", Package: pk.ImportPath, Elapsed: elapsed})
	return false, used
}

// event is a package-level line of `go test -json`.
type event struct {
	Time    time.Time `json:",omitzero"`
	Action  string
	Package string
	Test    string  `json:",omitempty"`
	Output  string  `json:",omitempty"`
	Elapsed float64 `json:",omitempty"`
}

// lineWriter writes whole lines from several goroutines, flushed per line so that testsum's
// progress notes stay current.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lineWriter) line(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b)
	l.w.WriteByte('\n')
	l.w.Flush()
}

func (l *lineWriter) event(e event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b, _ := json.Marshal(e)
	l.line(b)
}

func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Flush()
}
