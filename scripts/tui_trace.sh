#!/usr/bin/env bash
# Drives the workbench in tmux with ASSAY_TRACE_FRAMES set and summarises the frame timings.
#
#   scripts/tui_trace.sh ASSAY DB TRACE [USER]
#
# ASSAY is the release binary, DB a workspace the run may change (it chooses levels), TRACE the
# file the timings go to (emptied first). USER (default assessor01) is who works; in a workspace
# made by examples/generate.rs assessor01 has portfolios in progress, listed first.
#
# After a first run that only warms the page cache: STARTS (default 10) starts, each quit at
# its first frame; then one session with the keys, with a pause after each so that
# every key gets its own frame: 181 moves in the queue (j, k, PgDn, PgUp, Home), three fuzzy
# filters typed one letter at a time (0.6 s apart, so that each result can show) and cleared,
# then the first portfolio opened, 48 levels chosen (1-3) while stepping through the criteria,
# back to the queue, quit. Peak resident memory is read from /proc/PID/status (VmHWM) just before quitting.
set -euo pipefail

ASSAY=$1
DB=$2
TRACE=$3
WHO=${4:-assessor01}
S=assay-trace-$$
PAUSE=${PAUSE:-0.06}

# Starts the workbench in tmux with an empty TRACE and waits for its first frame.
start() {
    : >"$TRACE"
    tmux kill-session -t "$S" 2>/dev/null || true
    tmux new-session -d -s "$S" -x 120 -y 40 \
        "exec env ASSAY_TRACE_FRAMES=$TRACE ASSAY_USER=$WHO TERM=xterm-256color $ASSAY --db $DB"
    for _ in $(seq 1 200); do
        grep -q first_frame "$TRACE" 2>/dev/null && break
        sleep 0.05
    done
}
quit() {
    tmux send-keys -t "$S" q
    sleep 0.5
    tmux kill-session -t "$S" 2>/dev/null || true
}
# A first run to bring the workspace into the page cache (and apply any migration); its
# timings are not kept.
start
quit
# STARTS (default 10) starts, each quit at its first frame: the first frame's spread.
STARTS_FILE=$TRACE.starts
: >"$STARTS_FILE"
for _ in $(seq 1 "${STARTS:-10}"); do
    start
    awk '/^first_frame/ { print $2 }' "$TRACE" >>"$STARTS_FILE"
    sleep 0.2
    quit
done
start
PID=$(tmux display-message -p -t "$S" '#{pane_pid}')
sleep 0.5
keys() { for k in "$@"; do tmux send-keys -t "$S" "$k"; sleep "$PAUSE"; done; }
phase() { echo "phase $1" >>"$TRACE"; }
# If the workbench reopened a portfolio from last time, go back to the queue first.
phase other
keys Escape Escape Escape
phase move
for _ in $(seq 1 80); do keys j; done
for _ in $(seq 1 10); do keys NPage; done
for _ in $(seq 1 10); do keys PPage; done
for _ in $(seq 1 80); do keys k; done
keys Home
# fuzzy filters, typed a letter at a time, with time for each result to show
PAUSE=${FILTER_PAUSE:-0.6}
for q in kovacevic szabo gdansk; do
    phase other
    keys /
    phase filter
    for c in $(echo "$q" | grep -o .); do keys "$c"; done
    phase other
    keys Enter Escape
done
# open the first portfolio (the user's own work comes first) and choose levels
PAUSE=${LEVEL_PAUSE:-0.1}
keys Home
phase open
keys Enter
sleep 0.5
for _ in $(seq 1 12); do
    phase level
    keys 1 2 3
    phase other
    keys j
    phase level
    keys 2
done
phase other
keys Home
phase back
keys Escape
sleep 1
HWM=$(awk '/VmHWM/ {print $2, $3}' "/proc/$PID/status")
RSS=$(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status")
phase other
keys q
sleep 0.5
tmux kill-session -t "$S" 2>/dev/null || true

# LABEL, then one value a line on stdin
summary() {
    sort -n | awk -v label="$1" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { printf "%-30s none\n", label; exit }
            i50 = int(0.50 * NR + 0.999); i99 = int(0.99 * NR + 0.999)
            printf "%-30s n=%4d  median %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", label, NR, v[i50], v[i99], v[NR]
        }'
}
of() { awk -v want="$1" -v kind="$2" '$1 == "phase" { ph = $2; next } ph == want && $1 == kind { print $NF }' "$TRACE"; }
echo "## workbench, 120x40, $(sqlite3 "$DB" 'SELECT count(*) FROM portfolios') portfolios, as $WHO"
summary "start → first frame" <"$STARTS_FILE"
of move key | summary "key → frame: move"
of filter key | summary "key → frame: filter letter"
of filter filtered | summary "key → filtered result shown"
of level key | summary "key → frame: choose a level"
of open key | summary "key → frame: open (Enter)"
of back key | summary "key → frame: back to queue"
awk '$1 == "key" { print $NF }' "$TRACE" | summary "key → frame: every key"
echo "peak resident memory (VmHWM) $HWM; resident at the end (VmRSS) $RSS"
