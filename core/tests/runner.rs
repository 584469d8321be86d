//! The runner end to end with test doubles: exact budget, determinism, crash and resume,
//! failing evaluations under both policies, and refusal to overwrite a run.

mod common;

use std::sync::atomic::Ordering;

use common::{Bowl, Perturb, built, evaluations, trajectory};
use les_core::config::OnError;
use les_core::journal::{EVALUATIONS_FILE, ITERATIONS_FILE, IterationRecord, read_journal};
use les_core::runner::{self, Mode, RunError, RunStatus, Silent};
use les_core::{Ask, AskContext, Observation, Strategy, StrategyError, StreamRng};
use rand::RngExt;
use serde_json::json;

#[test]
fn budget_is_exact_and_journal_is_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    // Batches of 4 do not divide the 20 − 3 remaining evaluations: the last ask is cut.
    let outcome =
        runner::run(built(&dir, 20, Bowl::new(3, 0.0, f64::INFINITY), OnError::Stop, 4), Mode::Fresh, &mut Silent)
            .unwrap();
    assert_eq!(outcome.status, RunStatus::BudgetExhausted);
    let evals = evaluations(&dir);
    assert_eq!(evals.len(), 20);
    assert!(evals.iter().enumerate().all(|(i, r)| r.index == i && r.y.is_some() && r.f == r.y));
    assert_eq!(evals.iter().filter(|r| r.iteration == 0).count(), 3, "initial design");
    let iters: Vec<IterationRecord> = read_journal(&dir.join(ITERATIONS_FILE)).unwrap().records;
    // The initial design's hand-out (iteration 0, its 3 points), then 5 strategy asks.
    assert_eq!(iters.len(), 6);
    assert_eq!((iters[0].iteration, iters[0].points.len(), iters[0].trials.clone()), (0, 3, vec![0, 1, 2]));
    assert_eq!(iters[1].phases.get("propose"), Some(&json!(0.0)));
    assert_eq!(iters[1].told, Some(3), "the first ask saw the initial design");
    assert!(evals.iter().all(|r| r.trial == Some(r.index)), "one at a time: trial ids are the indices");
    let best = evals.iter().filter_map(|r| r.y).fold(f64::INFINITY, f64::min);
    assert_eq!(outcome.summary["best_y"], json!(best));
    assert_eq!(outcome.summary["evaluations"], json!(20));
    assert!(dir.join("summary.json").exists() && dir.join("config.yaml").exists());
}

/// [`Perturb`] with a `tell` that takes at least [`SlowTell::PAUSE`].
struct SlowTell(Perturb);

impl SlowTell {
    const PAUSE: std::time::Duration = std::time::Duration::from_millis(15);
}

impl Strategy for SlowTell {
    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        self.0.ask(ctx, rng)
    }

    fn tell(&mut self, observations: &[Observation]) -> Result<(), StrategyError> {
        std::thread::sleep(Self::PAUSE);
        self.0.tell(observations)
    }
}

#[test]
fn tell_time_is_journaled_with_the_ask_that_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut run = built(&dir, 8, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
    run.strategy = Box::new(SlowTell(Perturb { step: 0.5, best: None, batch: 1 }));
    runner::run(run, Mode::Fresh, &mut Silent).unwrap();
    let iters: Vec<IterationRecord> = read_journal(&dir.join(ITERATIONS_FILE)).unwrap().records;
    // 3 initial points, then 5 asks; each follows a tell (of the initial design, then of the
    // previous ask's point).
    assert_eq!(iters.len(), 6);
    assert_eq!(iters[0].tell_seconds, None, "the design's hand-out follows no tell");
    for it in &iters[1..] {
        let tell = it.tell_seconds.expect("a tell preceded every ask");
        assert!(tell >= SlowTell::PAUSE.as_secs_f64(), "iteration {}: {tell}", it.iteration);
    }
    // Without an initial design the first ask follows no tell.
    let dir = tmp.path().join("no-design");
    let mut run = built(&dir, 3, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
    run.initial_points = 0;
    runner::run(run, Mode::Fresh, &mut Silent).unwrap();
    let iters: Vec<IterationRecord> = read_journal(&dir.join(ITERATIONS_FILE)).unwrap().records;
    assert_eq!(iters.iter().map(|it| it.tell_seconds.is_some()).collect::<Vec<_>>(), vec![false, true, true]);
}

#[test]
fn same_seed_same_run_and_noise_is_seeded() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    runner::run(built(&a, 15, Bowl::new(2, 0.1, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    runner::run(built(&b, 15, Bowl::new(2, 0.1, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    assert_eq!(trajectory(&a), trajectory(&b));
    // Noise is added to y, not to the noise-free f.
    assert!(evaluations(&a).iter().all(|r| r.y != r.f && r.f.is_some()));
}

#[test]
fn existing_run_directory_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    runner::run(built(&dir, 5, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    let before = std::fs::read(dir.join(EVALUATIONS_FILE)).unwrap();
    let err = runner::run(built(&dir, 5, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent)
        .unwrap_err();
    assert!(matches!(err, RunError::OutputExists(_)), "{err}");
    assert!(err.to_string().contains("--resume"), "{err}");
    assert_eq!(std::fs::read(dir.join(EVALUATIONS_FILE)).unwrap(), before);
}

/// Cuts the journals of a finished run as a crash at the given moment would have left them,
/// resumes, and checks the result equals the uninterrupted run, with only the missing
/// evaluations re-run.
#[test]
fn resume_after_any_crash_point_equals_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    let budget = 14;
    runner::run(built(&full, budget, Bowl::new(2, 0.05, f64::INFINITY), OnError::Stop, 2), Mode::Fresh, &mut Silent)
        .unwrap();
    let want = trajectory(&full);
    let evals = std::fs::read(full.join(EVALUATIONS_FILE)).unwrap();
    let iters = std::fs::read(full.join(ITERATIONS_FILE)).unwrap();
    let line_ends = |bytes: &[u8]| -> Vec<usize> {
        bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect()
    };
    let (eval_ends, iter_ends) = (line_ends(&evals), line_ends(&iters));
    // Crash after k whole evaluation lines plus a torn part of the next, with the iteration
    // journal cut consistently (records of iterations whose first evaluation was journaled,
    // plus possibly the next one).
    for k in 0..budget {
        for torn in [0usize, 7] {
            let dir = tmp.path().join(format!("cut-{k}-{torn}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(full.join("config.yaml"), dir.join("config.yaml")).unwrap();
            let cut = if k == 0 { 0 } else { eval_ends[k - 1] };
            let end = (cut + torn).min(evals.len());
            std::fs::write(dir.join(EVALUATIONS_FILE), &evals[..end]).unwrap();
            // Evaluation k belongs to iteration `it`. When it is the first evaluation of its
            // iteration, the crash may have come before or after that iteration's record was
            // written: exercise both (without and with the torn bytes).
            // Line i of the iteration journal is iteration i (0: the initial design's hand-out).
            let it = want[k].1;
            let first_of_iteration = k == 0 || want[k - 1].1 != it;
            let asked_through = if torn == 0 && first_of_iteration { it.checked_sub(1) } else { Some(it) };
            let keep = asked_through.map_or(0, |a| iter_ends[a]);
            let extra = if torn > 0 { torn.min(iters.len() - keep) } else { 0 };
            std::fs::write(dir.join(ITERATIONS_FILE), &iters[..keep + extra]).unwrap();

            let objective = Bowl::new(2, 0.05, f64::INFINITY);
            let calls = objective.calls.clone();
            let outcome =
                runner::run(built(&dir, budget, objective, OnError::Stop, 2), Mode::Resume, &mut Silent).unwrap();
            assert_eq!(outcome.status, RunStatus::BudgetExhausted);
            assert_eq!(trajectory(&dir), want, "crash after {k} evaluations (+{torn} torn bytes)");
            assert_eq!(calls.load(Ordering::SeqCst), budget - k, "only the missing evaluations run again");
        }
    }
}

#[test]
fn resume_runs_only_missing_evaluations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    runner::run(built(&dir, 6, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    // A larger budget on resume continues the run.
    let objective = Bowl::new(2, 0.0, f64::INFINITY);
    let mut run = built(&dir, 9, objective, OnError::Stop, 1);
    run.resolved["budget"] = json!(9);
    let outcome = runner::run(run, Mode::Resume, &mut Silent).unwrap();
    assert_eq!(outcome.summary["evaluations"], json!(9));
    assert_eq!(evaluations(&dir).len(), 9);
}

#[test]
fn resume_with_another_config_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    runner::run(built(&dir, 4, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    let mut run = built(&dir, 4, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1);
    run.resolved["seed"] = json!(12);
    let err = runner::run(run, Mode::Resume, &mut Silent).unwrap_err();
    match err {
        RunError::ResumeMismatch { path, .. } => assert_eq!(path, "seed"),
        other => panic!("unexpected {other}"),
    }
    let err = runner::run(
        built(&tmp.path().join("none"), 4, Bowl::new(2, 0.0, f64::INFINITY), OnError::Stop, 1),
        Mode::Resume,
        &mut Silent,
    )
    .unwrap_err();
    assert!(matches!(err, RunError::NothingToResume(_)), "{err}");
}

#[test]
fn nan_objective_stops_by_default_and_keeps_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    // NaN on the right half of the first coordinate: some initial or later point hits it.
    let outcome =
        runner::run(built(&dir, 30, Bowl::new(2, 0.0, 0.5), OnError::Stop, 1), Mode::Fresh, &mut Silent).unwrap();
    let RunStatus::EvaluationFailed(reason) = &outcome.status else { panic!("{:?}", outcome.status) };
    assert!(reason.contains("non-finite") && reason.contains("on_error: skip"), "{reason}");
    let evals = evaluations(&dir);
    let last = evals.last().unwrap();
    assert!(last.error.is_some() && last.y.is_none());
    assert!(evals[..evals.len() - 1].iter().all(|r| r.error.is_none()), "data before the failure is kept");
    assert_eq!(outcome.summary["success"], json!(false));
}

#[test]
fn nan_objective_is_skipped_with_on_error_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let outcome =
        runner::run(built(&dir, 30, Bowl::new(2, 0.0, 0.5), OnError::Skip, 1), Mode::Fresh, &mut Silent).unwrap();
    assert_eq!(outcome.status, RunStatus::BudgetExhausted);
    let evals = evaluations(&dir);
    assert_eq!(evals.len(), 30, "failures count against the budget");
    let failed = evals.iter().filter(|r| r.error.is_some()).count();
    assert!(failed > 0, "the test must exercise a failure");
    assert_eq!(outcome.summary["failed_evaluations"], json!(failed));
    let best = outcome.summary["best_y"].as_f64().unwrap();
    assert!(best.is_finite());
}

/// A strategy that cannot take failed observations ends the run (exit 1), not silently.
struct RejectsFailures;
impl Strategy for RejectsFailures {
    fn ask(&mut self, _: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        Ok(Ask { points: vec![vec![rng.random::<f64>(), rng.random::<f64>()]], ..Default::default() })
    }
    fn tell(&mut self, observations: &[Observation]) -> Result<(), StrategyError> {
        match observations.iter().find(|o| o.y.is_err()) {
            Some(_) => Err(StrategyError::Other("this strategy needs every value".into())),
            None => Ok(()),
        }
    }
}

#[test]
fn a_strategy_that_fails_to_learn_ends_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut run = built(&dir, 30, Bowl::new(2, 0.0, 0.5), OnError::Skip, 1);
    run.strategy = Box::new(RejectsFailures);
    let outcome = runner::run(run, Mode::Fresh, &mut Silent).unwrap();
    let RunStatus::StrategyFailed(reason) = &outcome.status else { panic!("{:?}", outcome.status) };
    assert!(reason.contains("needs every value"), "{reason}");
    assert!(evaluations(&dir).last().unwrap().error.is_some(), "the failed evaluation is journaled");
    assert_eq!(outcome.summary["success"], json!(false));
}
