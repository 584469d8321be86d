//! Probabilistic models of the objective and their posterior sample paths.

use std::ops::Range;

use serde_json::Value;

use crate::{Dataset, GpHyperparameters, StreamRng};

/// Why a model could not be fitted or queried.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SurrogateError {
    /// A Cholesky factorization failed even after adding the largest jitter tried.
    #[error(
        "covariance matrix of size {size} is not positive definite even with jitter {max_jitter:e} on the diagonal"
    )]
    NotPositiveDefinite {
        /// Matrix size.
        size: usize,
        /// Largest jitter tried.
        max_jitter: f64,
    },
    /// The model was queried before `fit`.
    #[error("the surrogate was queried before it was fitted")]
    NotFitted,
    /// The data cannot be modelled (empty, non-finite …).
    #[error("{0}")]
    InvalidData(String),
    /// Any other numerical failure, with a message that says what failed.
    #[error("{0}")]
    Numerical(String),
}

/// Posterior marginals at `m` points, in the model's output scale (see
/// [`Surrogate::output_scale`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prediction {
    /// Posterior mean, `m`.
    pub mean: Vec<f64>,
    /// Latent (noise-free) posterior variance, `m`.
    pub variance: Vec<f64>,
}

/// A probabilistic model fitted to data in the unit cube.
///
/// Predictions are in the model's own output scale: `y_model = (y − shift) / scale` with
/// `(shift, scale)` from [`Surrogate::output_scale`] (identity when outputs are not
/// standardized).
pub trait Surrogate: Send + Sync {
    /// Input dimension `d`.
    fn dim(&self) -> usize;

    /// Fits the model (hyperparameters included, as configured) to `data` (`n` points).
    /// Returns diagnostics for the journal (fitted hyperparameters, fit time …).
    fn fit(&mut self, data: &Dataset, rng: &mut StreamRng) -> Result<Value, SurrogateError>;

    /// Posterior mean and latent variance at `m` points (`m×d`).
    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError>;

    /// Latent posterior covariance between two point sets `a` (`m_a×d`) and `b` (`m_b×d`),
    /// row-major `m_a×m_b`.
    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError>;

    /// `Σ(Z, Z)` of one point set `z` (`M×d`) prepared to be read in blocks, for a consumer
    /// that cannot hold all `M²` values (LES's acquisition at large `M`). The default reads
    /// every block with [`Surrogate::posterior_covariance`]; a model that can share work
    /// between blocks (an exact GP's whitened cross-covariances) overrides it.
    fn covariance_blocks<'a>(&'a self, z: &[f64]) -> Result<Box<dyn CovarianceBlocks + 'a>, SurrogateError> {
        Ok(Box::new(DirectCovarianceBlocks { model: self, z: z.to_vec() }))
    }

    /// Observation-noise variance σ_n² in the model's output scale.
    fn noise_variance(&self) -> f64;

    /// `(shift, scale)` with `y_model = (y − shift) / scale`.
    fn output_scale(&self) -> (f64, f64);

    /// The fitted kernel hyperparameters (model output scale, unit cube), for a model that is
    /// a GP with a stationary kernel: what an acquisition that needs covariances the trait
    /// does not offer (derivative observations) builds its own dense GP from. `None` before
    /// `fit` or for other models.
    fn hyperparameters(&self) -> Option<GpHyperparameters> {
        None
    }

    /// This model as one that can draw sample paths, if it can.
    fn as_pathwise(&self) -> Option<&dyn PathwiseSurrogate> {
        None
    }
}

/// Blocks of the latent posterior covariance `Σ(Z, Z)` of one point set (see
/// [`Surrogate::covariance_blocks`]). An entry must not depend on the block it is read in,
/// and `Σ(z_i, z_j)` must have the bits of `Σ(z_j, z_i)`.
pub trait CovarianceBlocks: Send + Sync {
    /// `Σ(Z_rows, Z_cols)`, row-major `|rows|×|cols|`.
    fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>, SurrogateError>;

    /// The diagonal blocks `Σ(Z_b, Z_b)` of consecutive groups of `size` points (`M` a
    /// multiple of `size`): `M/size` row-major `size×size` blocks, one after the other.
    fn diagonal_blocks(&self, size: usize) -> Result<Vec<f64>, SurrogateError> {
        let m = self.len();
        let mut out = Vec::with_capacity(m * size);
        for start in (0..m).step_by(size.max(1)) {
            out.extend(self.block(start..start + size, start..start + size)?);
        }
        Ok(out)
    }

    /// Number of points `M`.
    fn len(&self) -> usize;

    /// Whether there are no points.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`CovarianceBlocks`] read through [`Surrogate::posterior_covariance`].
struct DirectCovarianceBlocks<'a, S: ?Sized> {
    model: &'a S,
    z: Vec<f64>,
}

impl<S: Surrogate + ?Sized> CovarianceBlocks for DirectCovarianceBlocks<'_, S> {
    fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>, SurrogateError> {
        let d = self.model.dim();
        self.model.posterior_covariance(&self.z[rows.start * d..rows.end * d], &self.z[cols.start * d..cols.end * d])
    }

    fn len(&self) -> usize {
        self.z.len() / self.model.dim().max(1)
    }
}

/// A surrogate that draws whole posterior sample paths (functions, not marginals).
pub trait PathwiseSurrogate: Surrogate {
    /// Draws `L = n_paths` independent posterior sample paths.
    fn sample_paths(&self, n_paths: usize, rng: &mut StreamRng) -> Result<Box<dyn PathBatch>, SurrogateError>;
}

/// `L` posterior sample paths evaluated together, each at its own point.
///
/// Batched on purpose: the random-feature part of all paths is one matrix product, which
/// per-path calls would waste. Implementations must give results that do not depend on the
/// number of threads.
pub trait PathBatch: Send + Sync {
    /// Number of paths `L`.
    fn n_paths(&self) -> usize;

    /// Input dimension `d`.
    fn dim(&self) -> usize;

    /// Values and gradients of every path at its own point: `xs` is `L×d` (row `l` for path
    /// `l`); writes `values` (`L`) and `grads` (`L×d`).
    fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]);

    /// Values of every path at its own point (`xs` is `L×d`, `values` is `L`). The default
    /// discards the gradients of [`PathBatch::value_and_grad`].
    fn values(&self, xs: &[f64], values: &mut [f64]) {
        let mut grads = vec![0.0; xs.len()];
        self.value_and_grad(xs, values, &mut grads);
    }

    /// Size of the blocks of paths that [`PathBatch::gradients_block`] evaluates on their own
    /// (the default, `L`: only the whole batch). Inner optimizers run a block's whole descent
    /// on one thread, so the `T` steps need no synchronization between threads.
    fn block_size(&self) -> usize {
        self.n_paths()
    }

    /// Gradients of the paths `first .. first + grads.len() / d` at their own points (`xs`
    /// and `grads` are `L_b×d`), on the calling thread; `first` is a multiple of
    /// [`PathBatch::block_size`] and the range at most one block. What a first-order descent
    /// needs at each step: an implementation may skip the values and round differently from
    /// [`PathBatch::value_and_grad`], but a path's gradient must not depend on the block it
    /// is evaluated in. The default handles the one block of the default block size.
    fn gradients_block(&self, first: usize, xs: &[f64], grads: &mut [f64]) {
        assert!(
            first == 0 && grads.len() == self.n_paths() * self.dim(),
            "invariant: a PathBatch without its own block_size is evaluated as one block"
        );
        let mut values = vec![0.0; self.n_paths()];
        self.value_and_grad(xs, &mut values, grads);
    }
}
