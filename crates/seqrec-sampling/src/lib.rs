//! Seeded negative samplers for sequential-recommendation training.
//!
//! Item ids are `u32` in `1..=num_items`; id 0 is padding and is never sampled.
//! The crate hands out plain ids (no tensors):
//!
//! * [`NegativeSampler`] draws ids uniformly or by popularity (`count^gamma`,
//!   via an O(1) alias table), optionally excluding an [`Exclusion`] set.
//! * [`sample_batch_negatives`] produces the negatives of one training batch
//!   under a [`NegativeSharing`] mode (per position, per sequence or per batch).
//! * [`popularity_counts`] builds the count vector popularity sampling needs.
//!
//! All randomness comes from the caller's RNG: the same seed gives the same ids.
//!
//! ```
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//! use seqrec_sampling::{
//!     popularity_counts, sample_batch_negatives, NegativeSampler, NegativeSharing,
//! };
//!
//! let train = vec![vec![1, 2, 3, 2], vec![0, 2, 4, 5]];
//! let counts = popularity_counts(&train, 5).unwrap();
//! let sampler = NegativeSampler::popularity(&counts, 0.75).unwrap();
//!
//! let targets: [&[u32]; 2] = [&[2, 3, 2], &[2, 4, 5]];
//! let mut rng = ChaCha8Rng::seed_from_u64(42);
//! let negs = sample_batch_negatives(
//!     &sampler, &mut rng, NegativeSharing::PerPosition, 2, &targets, None,
//! ).unwrap();
//! assert_eq!(negs.shape(), vec![2, 3, 2]);
//! for (b, seq) in targets.iter().enumerate() {
//!     for (t, &target) in seq.iter().enumerate() {
//!         assert!(negs.negatives_for(b, t).unwrap().iter().all(|&id| id != target && id != 0));
//!     }
//! }
//!
//! // Same seed, same negatives.
//! let mut rng = ChaCha8Rng::seed_from_u64(42);
//! let again = sample_batch_negatives(
//!     &sampler, &mut rng, NegativeSharing::PerPosition, 2, &targets, None,
//! ).unwrap();
//! assert_eq!(negs, again);
//! ```
#![deny(missing_docs)]

mod alias;
mod batch;
mod counts;
mod distribution;
mod error;
mod exclusion;
mod sampler;
mod sharing;

pub use batch::{BatchNegatives, sample_batch_negatives};
pub use counts::popularity_counts;
pub use distribution::NegativeDistribution;
pub use error::SamplingError;
pub use exclusion::Exclusion;
pub use sampler::NegativeSampler;
pub use sharing::NegativeSharing;
