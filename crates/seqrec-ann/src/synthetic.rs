//! Seeded synthetic catalogues shaped like a recommender's output embeddings, for measuring
//! an index (`examples/ann_recall.rs`, `seqrec-serve`'s `examples/ann_serving.rs`).
//!
//! Items lie around cluster centres (genres, artists) with norms spread over a factor of
//! eight, as popularity spreads them in trained embeddings; users mix one to three centres
//! plus noise (listeners who like a few styles).

/// splitmix64: a fast seeded generator, enough for synthetic data.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// About standard normal (a sum of four uniforms, rescaled).
    pub fn normal(&mut self) -> f32 {
        let s: f32 = (0..4).map(|_| self.uniform()).sum();
        (s - 2.0) * 1.732_050_8
    }

    /// Uniform in `0..n` (`n` at least 1).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A synthetic catalogue: the item table and the cluster centres users are drawn from.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Row-major `[items + 2, dim]`; rows 0 and `items + 1` (gSASRec's reserved ids) are 0.
    pub table: Vec<f32>,
    /// Row-major `[clusters, dim]`.
    pub centres: Vec<f32>,
    /// The dimension.
    pub dim: usize,
}

impl Catalogue {
    /// `items` items of dimension `dim` around `clusters` centres, from `seed`, generated on
    /// `threads` threads (the same table for any number of threads is not promised: each
    /// thread draws its own rows).
    pub fn generate(items: usize, dim: usize, clusters: usize, seed: u64, threads: usize) -> Self {
        let clusters = clusters.max(1);
        let mut rng = SplitMix(seed);
        let scale = 1.0 / (dim as f32).sqrt();
        let centres: Vec<f32> = (0..clusters * dim).map(|_| rng.normal() * scale).collect();
        let rows = items + 2;
        let mut table = vec![0f32; rows * dim];
        let per = rows.div_ceil(threads.max(1));
        std::thread::scope(|scope| {
            for (t, part) in table.chunks_mut(per * dim).enumerate() {
                let centres = &centres;
                scope.spawn(move || {
                    let mut rng = SplitMix(seed ^ (0xA5A5_0000 + t as u64));
                    for (i, row) in part.chunks_exact_mut(dim).enumerate() {
                        let id = t * per + i;
                        if id == 0 || id == rows - 1 {
                            continue;
                        }
                        let c = rng.below(clusters);
                        let centre = &centres[c * dim..(c + 1) * dim];
                        // Popularity spreads norms: a log-uniform factor over [0.35, 2.8].
                        let norm = (rng.uniform() * 3.0 - 1.5).exp2();
                        for (v, m) in row.iter_mut().zip(centre) {
                            *v = (m + 0.5 * scale * rng.normal()) * norm;
                        }
                    }
                });
            }
        });
        Self {
            table,
            centres,
            dim,
        }
    }

    /// The rows that are not items: 0 and `items + 1`.
    pub fn reserved(&self) -> [usize; 2] {
        [0, self.table.len() / self.dim - 1]
    }

    /// `n` user vectors `[n, dim]`: one to three centres with weights in `[0.5, 1.5)`, plus
    /// noise.
    pub fn users(&self, n: usize, seed: u64) -> Vec<f32> {
        let dim = self.dim;
        let clusters = self.centres.len() / dim;
        let scale = 1.0 / (dim as f32).sqrt();
        let mut rng = SplitMix(seed ^ 0x5EED_0000_0000);
        let mut out = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let mut user = vec![0f32; dim];
            for _ in 0..1 + rng.below(3) {
                let c = rng.below(clusters);
                let w = 0.5 + rng.uniform();
                for (u, m) in user.iter_mut().zip(&self.centres[c * dim..(c + 1) * dim]) {
                    *u += w * m;
                }
            }
            for u in &mut user {
                *u += 0.3 * scale * rng.normal();
            }
            out.extend(user);
        }
        out
    }
}
