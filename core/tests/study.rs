//! The study (ask/tell from your own loop) against the runner it serves: the same evaluations
//! for the same seed however the loop is interrupted, pending trials that survive restarts,
//! warm start, refused tells that change nothing, older journals, and one writer per run.

mod common;

use std::path::Path;

use common::{Bowl, Perturb, built, evaluations, trajectory};
use les_core::config::OnError;
use les_core::journal::{EVALUATIONS_FILE, ITERATIONS_FILE};
use les_core::runner::{self, Mode, RunError, RunStatus, Silent};
use les_core::{
    Ask, AskContext, Objective, Outcome, Strategy, StrategyError, StreamRng, Study, StudyError, stream_rng,
};
use rand::RngExt;

/// The trajectory without the noise-free values, which only `les run` knows (it calls the
/// objective; an ask/tell loop tells observed values).
fn observed(dir: &Path) -> Vec<(usize, usize, Vec<f64>, Option<f64>)> {
    trajectory(dir).into_iter().map(|(i, it, x, y, _)| (i, it, x, y)).collect()
}

fn bowl(x: &[f64]) -> f64 {
    Bowl::new(x.len(), 0.0, f64::INFINITY).evaluate(x).unwrap()
}

/// Drives `dir` with ask/tell, reopening the study at moments drawn from `restart_seed`
/// (`None`: never), and computing the objective itself.
fn ask_tell_loop(dir: &Path, budget: usize, batch: usize, restart_seed: Option<u64>) {
    let fresh = || built(dir, budget, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, batch);
    let mut study = Some(Study::create(fresh()).unwrap());
    let mut moments = restart_seed.map(|s| stream_rng(s, "restarts", 0));
    let mut maybe_restart = |study: &mut Option<Study>| {
        if let Some(rng) = &mut moments
            && rng.random::<f64>() < 0.4
        {
            // Dropping the study releases the lock, as a killed process would.
            drop(study.take());
            *study = Some(Study::resume(fresh()).unwrap());
        }
    };
    loop {
        let s = study.as_mut().unwrap();
        let mut trials = s.pending();
        if trials.is_empty() {
            trials = s.ask(1).unwrap().trials;
        }
        if trials.is_empty() {
            break;
        }
        maybe_restart(&mut study);
        for t in trials {
            study.as_mut().unwrap().tell(t.id, Outcome::Value(bowl(&t.x))).unwrap();
            maybe_restart(&mut study);
        }
    }
    let study = study.unwrap();
    let status = study.finished().expect("the budget is used up");
    assert_eq!(status, RunStatus::BudgetExhausted);
    study.write_summary(&status).unwrap();
}

#[test]
fn ask_tell_gives_the_evaluations_of_les_run() {
    let tmp = tempfile::tempdir().unwrap();
    for batch in [1, 3] {
        let run_dir = tmp.path().join(format!("run-{batch}"));
        runner::run(
            built(&run_dir, 13, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, batch),
            Mode::Fresh,
            &mut Silent,
        )
        .unwrap();
        let want = observed(&run_dir);
        let dir = tmp.path().join(format!("ask-tell-{batch}"));
        ask_tell_loop(&dir, 13, batch, None);
        assert_eq!(observed(&dir), want, "batch {batch}");
        for seed in 0..6 {
            let dir = tmp.path().join(format!("restarts-{batch}-{seed}"));
            ask_tell_loop(&dir, 13, batch, Some(seed));
            assert_eq!(observed(&dir), want, "batch {batch}, restarts from seed {seed}");
        }
    }
}

#[test]
fn a_run_directory_made_by_ask_tell_is_finished_by_les_run() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    runner::run(built(&full, 10, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent)
        .unwrap();
    let dir = tmp.path().join("half");
    let mut study = Study::create(built(&dir, 10, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1)).unwrap();
    for _ in 0..3 {
        for t in study.ask(1).unwrap().trials {
            study.tell(t.id, Outcome::Value(bowl(&t.x))).unwrap();
        }
    }
    // One more asked and left pending: the runner evaluates it first.
    let pending = study.ask(1).unwrap().trials;
    assert_eq!(pending.len(), 1);
    drop(study);
    let outcome =
        runner::run(built(&dir, 10, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Resume, &mut Silent)
            .unwrap();
    assert_eq!(outcome.status, RunStatus::BudgetExhausted);
    assert_eq!(observed(&dir), observed(&full));
}

#[test]
fn refused_tells_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut study = Study::create(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1)).unwrap();
    let trials = study.ask(2).unwrap().trials;
    assert_eq!(trials.iter().map(|t| t.id).collect::<Vec<_>>(), vec![0, 1]);
    study.tell(0, Outcome::Value(1.0)).unwrap();
    let files =
        || (std::fs::read(dir.join(EVALUATIONS_FILE)).unwrap(), std::fs::read(dir.join(ITERATIONS_FILE)).unwrap());
    let before = files();
    let unknown = study.tell(9, Outcome::Value(1.0)).unwrap_err();
    assert!(matches!(unknown, StudyError::UnknownTrial { id: 9, .. }), "{unknown}");
    assert!(unknown.to_string().contains("pending trials: 1"), "{unknown}");
    let twice = study.tell(0, Outcome::Value(2.0)).unwrap_err();
    assert!(matches!(twice, StudyError::AlreadyTold { id: 0, .. }), "{twice}");
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = study.tell(1, Outcome::Value(v)).unwrap_err();
        assert!(matches!(e, StudyError::NonFinite { id: 1, .. }), "{e}");
    }
    let outside = study.tell_unasked(&[5.0, 0.0], Outcome::Value(1.0), "told").unwrap_err();
    assert!(outside.to_string().contains("outside the bounds [-2, 3]"), "{outside}");
    let wrong_dim = study.tell_unasked(&[0.0], Outcome::Value(1.0), "told").unwrap_err();
    assert!(wrong_dim.to_string().contains("has 1 coordinates: expected 2"), "{wrong_dim}");
    assert_eq!(files(), before, "nothing was written");
    // Trial 1 is still pending, also after a restart.
    drop(study);
    let study = Study::resume(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1)).unwrap();
    assert_eq!(study.pending().iter().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
    assert_eq!(study.pending()[0].x, trials[1].x);
}

#[test]
fn a_finished_run_refuses_tells() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    runner::run(built(&dir, 4, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    let mut study = Study::resume(built(&dir, 4, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1)).unwrap();
    let e = study.tell(2, Outcome::Value(1.0)).unwrap_err();
    assert!(matches!(e, StudyError::Finished { .. }), "{e}");
    assert!(e.to_string().contains("budget exhausted"), "{e}");
    let asked = study.ask(1).unwrap();
    assert!(asked.trials.is_empty());
    assert!(asked.notes[0].contains("used up"), "{:?}", asked.notes);
}

#[test]
fn a_second_writer_is_refused_and_a_dead_ones_lock_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let study = Study::create(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1)).unwrap();
    let before = std::fs::read(dir.join(ITERATIONS_FILE)).unwrap();
    let err =
        runner::run(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Resume, &mut Silent)
            .unwrap_err();
    assert!(matches!(err, RunError::Locked(_)), "{err}");
    assert!(err.to_string().contains(&format!("in use by process {}", std::process::id())), "{err}");
    let err = runner::run(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent)
        .unwrap_err();
    assert!(matches!(err, RunError::Locked(_)), "a fresh run into a locked directory: {err}");
    assert_eq!(std::fs::read(dir.join(ITERATIONS_FILE)).unwrap(), before);
    drop(study);
    runner::run(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Resume, &mut Silent).unwrap();
    assert_eq!(evaluations(&dir).len(), 6);
}

#[test]
fn warm_start_from_a_csv_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data.csv");
    std::fs::write(&data, "x0,x1,y\n1.0,1.0,0.0\n2.5,-1.0,6.25\n").unwrap();
    let dir = tmp.path().join("run");
    let mut run = built(&dir, 5, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
    run.initial_data = Some(data.clone());
    let outcome = runner::run(run, Mode::Fresh, &mut Silent).unwrap();
    assert_eq!(outcome.status, RunStatus::BudgetExhausted);
    let evals = evaluations(&dir);
    // Two imported rows (iteration 0, with their source), then 5 evaluations of the budget:
    // one initial-design point (3 planned, 2 given by the data), then 4 asks.
    assert_eq!(evals.len(), 7);
    assert_eq!(evals[0].source.as_deref(), Some(format!("initial_data:{}:2", data.display()).as_str()));
    assert_eq!((evals[1].x.clone(), evals[1].y), (vec![2.5, -1.0], Some(6.25)));
    assert!(evals[..2].iter().all(|r| r.iteration == 0 && r.source.is_some()));
    assert!(evals[2..].iter().all(|r| r.source.is_none()));
    assert_eq!(evals.iter().filter(|r| r.iteration == 0 && r.source.is_none()).count(), 1);
    assert_eq!(outcome.summary["best_y"], serde_json::json!(0.0));
    // Resuming does not import the rows again.
    let mut run = built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
    run.initial_data = Some(data);
    run.resolved["budget"] = serde_json::json!(6);
    runner::run(run, Mode::Resume, &mut Silent).unwrap();
    assert_eq!(evaluations(&dir).iter().filter(|r| r.source.is_some()).count(), 2);
    assert_eq!(evaluations(&dir).len(), 8);
}

/// Fails while it has no data, as LES does.
struct NeedsData(Perturb);
impl Strategy for NeedsData {
    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        if ctx.data.is_empty() {
            return Err(StrategyError::Other("needs at least one observation".into()));
        }
        self.0.ask(ctx, rng)
    }
    fn tell(&mut self, o: &[les_core::Observation]) -> Result<(), StrategyError> {
        self.0.tell(o)
    }
}

#[test]
fn failed_initial_points_are_replaced_until_one_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    // Every x0 above -2 fails: the whole design fails, and the strategy is never asked
    // without data.
    let mut run = built(&dir, 6, Bowl::new(2, 0.0, -2.0), OnError::Skip, 1);
    run.strategy = Box::new(NeedsData(Perturb { step: 0.5, best: None, batch: 1 }));
    let outcome = runner::run(run, Mode::Fresh, &mut Silent).unwrap();
    assert_eq!(outcome.status, RunStatus::BudgetExhausted, "{:?}", outcome.status);
    let evals = evaluations(&dir);
    assert!(evals.iter().all(|r| r.iteration == 0 && r.error.is_some()), "only design points, all failed");
    // With an objective that fails three times and then works, the strategy takes over.
    let dir = tmp.path().join("recovers");
    let mut run = built(&dir, 8, Bowl::new(2, 0.0, f64::INFINITY), OnError::Skip, 1);
    run.objective = Box::new(FailFirst { inner: Bowl::new(2, 0.0, f64::INFINITY), failures: 4.into() });
    run.strategy = Box::new(NeedsData(Perturb { step: 0.5, best: None, batch: 1 }));
    let outcome = runner::run(run, Mode::Fresh, &mut Silent).unwrap();
    assert_eq!(outcome.status, RunStatus::BudgetExhausted, "{:?}", outcome.status);
    let evals = evaluations(&dir);
    let iterations: Vec<usize> = evals.iter().map(|r| r.iteration).collect();
    assert_eq!(iterations, vec![0, 0, 0, 0, 0, 1, 2, 3], "4 failures, 1 more design point, then the strategy");
}

struct FailFirst {
    inner: Bowl,
    failures: std::sync::atomic::AtomicUsize,
}
impl Objective for FailFirst {
    fn info(&self) -> &les_core::ObjectiveInfo {
        self.inner.info()
    }
    fn evaluate(&self, x: &[f64]) -> Result<f64, les_core::ObjectiveError> {
        use std::sync::atomic::Ordering;
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(les_core::ObjectiveError::Failed("rig offline".into()));
        }
        self.inner.evaluate(x)
    }
}

/// A journal written by an older version (no trial ids, no `told`, no hand-out records of the
/// initial design), cut at every evaluation, resumes to the run it was.
#[test]
fn journals_of_older_versions_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    let budget = 9;
    runner::run(built(&full, budget, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 2), Mode::Fresh, &mut Silent)
        .unwrap();
    let want = trajectory(&full);
    let strip = |line: &str| -> Option<String> {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let m = v.as_object_mut().unwrap();
        if m.get("iteration") == Some(&serde_json::json!(0)) && m.contains_key("points") {
            return None;
        }
        for k in ["trial", "trials", "told", "pending"] {
            m.remove(k);
        }
        Some(v.to_string())
    };
    let old =
        |path: &Path| -> Vec<String> { std::fs::read_to_string(path).unwrap().lines().filter_map(strip).collect() };
    let (evals, iters) = (old(&full.join(EVALUATIONS_FILE)), old(&full.join(ITERATIONS_FILE)));
    for k in 0..budget {
        let dir = tmp.path().join(format!("old-{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(full.join("config.yaml"), dir.join("config.yaml")).unwrap();
        std::fs::write(dir.join(EVALUATIONS_FILE), evals[..k].iter().map(|l| format!("{l}\n")).collect::<String>())
            .unwrap();
        // The old runner journaled an iteration before evaluating its points.
        let asked =
            want[..k.max(1)].iter().map(|s| s.1).max().unwrap_or(0).min(want[k].1.max(want[k.saturating_sub(1)].1));
        std::fs::write(dir.join(ITERATIONS_FILE), iters[..asked].iter().map(|l| format!("{l}\n")).collect::<String>())
            .unwrap();
        runner::run(built(&dir, budget, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 2), Mode::Resume, &mut Silent)
            .unwrap();
        assert_eq!(trajectory(&dir), want, "old journal cut after {k} evaluations");
    }
}

#[test]
fn a_study_in_memory_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("never");
    let mut study = Study::in_memory(built(&dir, 5, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1)).unwrap();
    let id = study.tell_unasked(&[1.0, 1.0], Outcome::Value(0.0), "told").unwrap();
    while let Some(t) = study.ask(1).unwrap().trials.first().cloned() {
        study.tell(t.id, Outcome::Value(bowl(&t.x))).unwrap();
    }
    assert_eq!(study.finished(), Some(RunStatus::BudgetExhausted));
    assert_eq!(study.status().used, 5);
    assert_eq!(study.best().map(|b| (b.trial, b.y)), Some((id, 0.0)));
    assert!(!dir.exists());
}

/// Sleeps, then answers like [`Bowl`]; counts how many calls overlap.
struct Sleepy {
    inner: Bowl,
    running: std::sync::atomic::AtomicUsize,
    most: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}
impl Objective for Sleepy {
    fn info(&self) -> &les_core::ObjectiveInfo {
        self.inner.info()
    }
    fn evaluate(&self, x: &[f64]) -> Result<f64, les_core::ObjectiveError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.running.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        // Later trials finish sooner, so completion order differs from asking order.
        std::thread::sleep(std::time::Duration::from_millis(30 - (10.0 * x[0].abs().min(2.0)) as u64));
        self.running.fetch_sub(1, SeqCst);
        self.inner.evaluate(x)
    }
}

/// The initial design is the same whatever is in flight, so with four workers a run of only
/// design points gives the same points and values as with one, evaluated up to four at a time
/// and journaled in completion order, each trial once.
#[test]
fn workers_keep_evaluations_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, workers: usize| {
        let dir = tmp.path().join(name);
        let mut run = built(&dir, 12, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        run.objective =
            Box::new(Sleepy { inner: Bowl::new(2, 0.0, f64::INFINITY), running: 0.into(), most: most.clone() });
        run.strategy = Box::new(NeedsData(Perturb { step: 0.5, best: None, batch: 1 }));
        run.workers = workers;
        run.initial_points = 12;
        let outcome = runner::run(run, Mode::Fresh, &mut Silent).unwrap();
        (dir, outcome, most.load(std::sync::atomic::Ordering::SeqCst))
    };
    let (serial, outcome, most) = run("one", 1);
    assert_eq!(outcome.status, RunStatus::BudgetExhausted);
    assert_eq!(most, 1, "workers: 1 evaluates one at a time");
    let (parallel, outcome, most) = run("four", 4);
    assert_eq!(outcome.status, RunStatus::BudgetExhausted);
    assert!((2..=4).contains(&most), "up to four at once, {most} seen");
    let mut a = observed(&serial);
    let mut b = observed(&parallel);
    assert_eq!(b.len(), 12);
    let mut trials: Vec<Option<usize>> = evaluations(&parallel).iter().map(|r| r.trial).collect();
    trials.sort();
    trials.dedup();
    assert_eq!(trials.len(), 12, "every trial once");
    // The same points and values, in another order.
    let key = |v: &mut Vec<(usize, usize, Vec<f64>, Option<f64>)>| {
        for e in v.iter_mut() {
            e.0 = 0;
        }
        v.sort_by(|p, q| p.2.partial_cmp(&q.2).unwrap());
    };
    key(&mut a);
    key(&mut b);
    assert_eq!(a, b);
    let iterations: Vec<les_core::journal::IterationRecord> =
        les_core::journal::read_journal(&parallel.join(ITERATIONS_FILE)).unwrap().records;
    assert_eq!(iterations.len(), 1, "the whole design in one hand-out");
}

/// A fresh run never writes over files it did not make, nor through links.
#[test]
fn a_fresh_run_leaves_foreign_files_and_links_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary.json"), "my notes").unwrap();
    let err = runner::run(built(&dir, 3, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent)
        .unwrap_err();
    assert!(matches!(err, RunError::ForeignFile { .. }), "{err}");
    assert!(err.to_string().contains("holds a file named `summary.json` but no run"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("summary.json")).unwrap(), "my notes");
    assert!(!dir.join("config.yaml").exists());
    #[cfg(unix)]
    {
        let linked = tmp.path().join("linked");
        std::fs::create_dir_all(&linked).unwrap();
        let outside = tmp.path().join("outside.jsonl");
        std::os::unix::fs::symlink(&outside, linked.join("evaluations.jsonl")).unwrap();
        let err = runner::run(
            built(&linked, 3, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1),
            Mode::Fresh,
            &mut Silent,
        )
        .unwrap_err();
        assert!(err.to_string().contains("holds a symbolic link named `evaluations.jsonl`"), "{err}");
        assert!(!outside.exists(), "nothing was written through the link");
    }
}

/// A resume on other arithmetic than the journal's says so in the first ask's notes, once.
#[test]
fn a_resume_on_other_arithmetic_says_so_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let make = || built(&dir, 10, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
    let mut study = Study::create(make()).unwrap();
    // The initial design (3 points), then one ask of the strategy.
    for _ in 0..4 {
        let asked = study.ask(1).unwrap();
        study.tell(asked.trials[0].id, Outcome::Value(1.0)).unwrap();
    }
    drop(study);
    // Journal the strategy's ask as made on another machine.
    let path = dir.join(ITERATIONS_FILE);
    let edited: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut r: serde_json::Value = serde_json::from_str(l).unwrap();
            if r["iteration"] != 0 {
                r["arithmetic"] = serde_json::json!({"test_kernels": "elsewhere"});
            }
            format!("{r}\n")
        })
        .collect();
    std::fs::write(&path, edited).unwrap();
    let mut study = Study::resume(make()).unwrap();
    let first = study.ask(1).unwrap();
    let note = first.notes.iter().find(|n| n.contains("other arithmetic")).expect("the note is given");
    assert!(note.contains("test_kernels elsewhere then, not used here"), "{note}");
    study.tell(first.trials[0].id, Outcome::Value(1.0)).unwrap();
    let second = study.ask(1).unwrap();
    assert!(second.notes.iter().all(|n| !n.contains("other arithmetic")), "said once: {:?}", second.notes);
}
