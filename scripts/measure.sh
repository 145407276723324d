#!/usr/bin/env bash
# Reproduces assay's performance figures on release builds.
#
#   scripts/measure.sh [WORK] [STEP…]
#
# WORK (default /tmp/assay-measure) holds the generated workloads, which are made once and
# reused:
#   WORK/mixed     100,000 portfolios at every status (examples/generate.rs, profile mixed)
#   WORK/released  100,000 released decisions (profile released), for the export figure
#   WORK/files10k  10,000 portfolio folders (files only), for the import figure
# STEPs (default: all): search import export tui
#
# Needs hyperfine, fzf, sqlite3 and tmux (apt-get install -y hyperfine fzf sqlite3 tmux).
# Set N to change the size of the large workloads (default 100000), RUNS for hyperfine's
# run count on the slow steps (default 10).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/assay-measure}
shift || true
STEPS=${*:-search import export tui}
N=${N:-100000}
RUNS=${RUNS:-10}
ASSAY=$ROOT/target/release/assay
GEN=$ROOT/target/release/examples/generate

mkdir -p "$WORK"
(cd "$ROOT" && cargo build --release --quiet --bin assay --example generate)

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# assay $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo '+changes'), N=$N"

gen() { # DIR N ARGS…
    local dir=$1 n=$2
    shift 2
    if [ ! -e "$dir/.done" ]; then
        rm -rf "$dir"
        "$GEN" "$n" "$dir" "$@"
        touch "$dir/.done"
    fi
}

step() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# ---------------------------------------------------------------------------------------------
# search: `assay search Q` over N portfolios vs `fzf --filter Q` over the same N learner names,
# whole process, warm cache.
# ---------------------------------------------------------------------------------------------
if step search; then
    gen "$WORK/mixed" "$N"
    DB=$WORK/mixed/assay.db
    sqlite3 "$DB" "SELECT learner_name FROM portfolios ORDER BY id" >"$WORK/names.txt"
    "$ASSAY" --db "$DB" stats >/dev/null # brings an older workspace to the current schema
    sqlite3 "$DB" "SELECT text FROM search ORDER BY portfolio_pk" >"$WORK/search_text.txt"
    echo "## search: $(wc -l <"$WORK/names.txt") portfolios"
    for q in kovacevic zofia szabo; do
        hyperfine --warmup 3 --runs 20 \
            "fzf --filter $q < $WORK/names.txt > /dev/null" \
            "fzf --filter $q < $WORK/search_text.txt > /dev/null" \
            "$ASSAY --db $DB search $q > /dev/null"
    done
fi

# ---------------------------------------------------------------------------------------------
# import: `assay import` of 10,000 portfolios (3 evidence files, a statement and a manifest
# each) into a new workspace vs `sha256sum` over the same files.
# ---------------------------------------------------------------------------------------------
if step import; then
    gen "$WORK/files10k" 10000 --files-only
    F=$WORK/files10k
    echo "## import: $(find "$F/portfolios" -type f | wc -l) files, $(du -sh --apparent-size "$F/portfolios" | cut -f1)"
    hyperfine --warmup 1 --runs "$RUNS" \
        --prepare "rm -f $WORK/import.db $WORK/import.db-wal $WORK/import.db-shm; sync" \
        "$ASSAY --db $WORK/import.db import $F/rubrics $F/portfolios" \
        "find $F/rubrics $F/portfolios -type f -print0 | xargs -0 sha256sum > /dev/null"
fi

# ---------------------------------------------------------------------------------------------
# export: `assay export --format csv` of N released decisions (into a fresh copy of the
# workspace each run: the export also records its batch and moves the decisions to `exported`)
# vs `sqlite3 -csv` writing the same number of rows from the same database: (a) a plain dump of
# 20 columns of `portfolios` (rows of comparable width), (b) the same content as assay's file
# (portfolio, learner, rubric, decision, moderation and one level per criterion).
# ---------------------------------------------------------------------------------------------
if step export; then
    gen "$WORK/released" "$N" --profile released
    SRC=$WORK/released/assay.db
    DB=$WORK/export.db
    "$ASSAY" --db "$SRC" stats >/dev/null # brings an older workspace to the current schema
    echo "## export: $(sqlite3 "$SRC" "SELECT count(*) FROM portfolios WHERE status = 'released'") released decisions"
    DUMP="SELECT p.id, p.learner_id, p.learner_name, p.learner_email, r.id, r.version, p.outcome, p.grade, p.score,
        3, 4, p.assessor, p.first_marker, p.updated_at, p.released_at, p.status, p.submitted, p.revision,
        p.version, p.evidence_changed
      FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk WHERE p.status IN ('released', 'exported') ORDER BY p.id"
    SAME="SELECT p.id, p.learner_id, p.learner_name, p.learner_email, r.id, r.version, p.outcome, p.grade, p.score,
        3, 4, f.by_user, st.by_user, CASE WHEN st.action = 'amend' THEN s.at ELSE f.at END, p.released_at,
        max(CASE WHEN m.criterion = 'digital-tools' THEN m.level END),
        max(CASE WHEN m.criterion = 'information' THEN m.level END),
        max(CASE WHEN m.criterion = 'communication' THEN m.level END),
        max(CASE WHEN m.criterion = 'problem-solving' THEN m.level END),
        max(CASE WHEN m.criterion = 'safety-wellbeing' THEN m.level END)
      FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk
      JOIN decisions f ON f.portfolio_pk = p.pk AND f.phase = 'first'
      LEFT JOIN settlements st ON st.portfolio_pk = p.pk
      LEFT JOIN decisions s ON s.portfolio_pk = p.pk AND s.phase = 'second'
      LEFT JOIN marks m ON m.portfolio_pk = p.pk AND m.phase = CASE WHEN st.action = 'amend' THEN 'second' ELSE 'first' END
      WHERE p.status IN ('released', 'exported') GROUP BY p.pk ORDER BY p.pk"
    echo "$DUMP" >"$WORK/dump.sql"
    echo "$SAME" >"$WORK/same.sql"
    hyperfine --warmup 1 --runs "$RUNS" \
        --prepare "cp $SRC $DB; rm -f $DB-wal $DB-shm $WORK/export.csv; sync" \
        "$ASSAY --db $DB --as moderator1 export --format csv --out $WORK/export.csv"
    hyperfine --warmup 1 --runs "$RUNS" \
        "sqlite3 -csv $SRC < $WORK/dump.sql > $WORK/dump.csv" \
        "sqlite3 -csv $SRC < $WORK/same.sql > $WORK/same.csv"
    echo "rows: assay $(($(wc -l <"$WORK/export.csv") - 1)), dump $(wc -l <"$WORK/dump.csv"), same $(wc -l <"$WORK/same.csv"); bytes: assay $(wc -c <"$WORK/export.csv"), dump $(wc -c <"$WORK/dump.csv"), same $(wc -c <"$WORK/same.csv")"
fi

# ---------------------------------------------------------------------------------------------
# tui: the workbench in tmux (120x40) on a copy of the mixed workspace, with
# ASSAY_TRACE_FRAMES: first frame (over STARTS starts, default 10), key → next frame for moves,
# filter keystrokes and levels, keystroke → filtered result, and peak resident memory (VmHWM).
# ---------------------------------------------------------------------------------------------
if step tui; then
    gen "$WORK/mixed" "$N"
    DB=$WORK/tui.db
    cp "$WORK/mixed/assay.db" "$DB"
    rm -f "$DB-wal" "$DB-shm"
    sync # the copy written out before anything is timed
    "$ROOT/scripts/tui_trace.sh" "$ASSAY" "$DB" "$WORK/trace.txt"
fi
