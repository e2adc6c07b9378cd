//! The model restricted to some rows of its item tables, for training on catalogues too large
//! for a dense update.
//!
//! A training batch reads few rows of the item tables: its inputs, targets and negatives. When
//! the model is trained through a view of those rows only ([`GsasRec::with_item_rows`]), the
//! backward pass gives gradients for those rows and nothing else, so that the optimizer can
//! update them alone (a sparse update) instead of the whole `[num_items + 2, dim]` tables with
//! their Adam moments. The ids of the batch must then be positions in the row list (local ids).

use burn::module::Param;
use burn::nn::Embedding;
use burn::tensor::{Int, Tensor};

use crate::model::GsasRec;

/// A [`GsasRec`] over a few rows of another's item tables: local id `i` is row `rows[i]` of
/// the full tables. Its blocks, norms and position embeddings are the full model's own
/// parameters (gradients reach them as usual); its item tables are new leaves, gathered from
/// the full model's tables outside the autodiff graph, so the full tables get no gradient and
/// the rows' gradients are read from the leaves ([`ItemRowsView::input_rows`],
/// [`ItemRowsView::output_rows`]).
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use seqrec_model::GsasRecConfig;
///
/// let device = Device::ndarray();
/// let model = GsasRecConfig::new(50).with_dim(8).with_max_len(6).init(&device).unwrap();
/// // Rows 0 (padding), 7, 9, 12 and 51 (the mask token) of the 52-row tables.
/// let rows = Tensor::<1, Int>::from_ints([0, 7, 9, 12, 51], &device);
/// let view = model.with_item_rows(rows);
/// assert_eq!(view.model.num_items, 3);
/// // Local ids 1 and 2 are items 7 and 9: the same hidden states.
/// let local = view.model.forward(Tensor::<2, Int>::from_ints([[0, 1, 2]], &device));
/// let global = model.forward(Tensor::<2, Int>::from_ints([[0, 7, 9]], &device));
/// let gap: f32 = (local - global).abs().max().into_scalar();
/// assert!(gap < 1e-6);
/// ```
#[derive(Debug)]
pub struct ItemRowsView {
    /// The model over the local catalogue of `rows.len() − 2` items.
    pub model: GsasRec,
    /// The gathered rows of the input table `[rows, dim]` (a leaf on an autodiff device).
    pub input_rows: Tensor<2>,
    /// The gathered rows of the separate output table, when the model has one.
    pub output_rows: Option<Tensor<2>>,
}

/// Rows `rows` of `table`: on an autodiff device a new leaf that requires gradients, gathered
/// without recording the gather (the table gets no gradient from it).
fn gather_leaf(table: &Param<Tensor<2>>, rows: &Tensor<1, Int>) -> Tensor<2> {
    let weight = table.val();
    if !weight.is_autodiff() {
        return weight.select(0, rows.clone());
    }
    weight
        .inner()
        .select(0, rows.clone().inner())
        .autodiff()
        .require_grad()
}

impl GsasRec {
    /// The model restricted to item rows `rows` (`[n]`, distinct catalogue ids in increasing
    /// order, starting with 0, the padding id, and ending with the mask token
    /// `num_items + 1`, so that the local padding is 0 and the local mask token is
    /// `n − 1`). See [`ItemRowsView`].
    pub fn with_item_rows(&self, rows: Tensor<1, Int>) -> ItemRowsView {
        let input_rows = gather_leaf(&self.item_embedding.weight, &rows);
        let output_rows = self
            .output_embedding
            .as_ref()
            .map(|table| gather_leaf(&table.weight, &rows));
        let table = |rows: &Tensor<2>| Embedding {
            weight: Param::from_tensor(rows.clone()),
        };
        let [n] = rows.dims();
        let model = GsasRec {
            item_embedding: table(&input_rows),
            position_embedding: self.position_embedding.clone(),
            blocks: self.blocks.clone(),
            final_norm: self.final_norm.clone(),
            output_embedding: output_rows.as_ref().map(table),
            embedding_dropout: self.embedding_dropout.clone(),
            repeat: self.repeat.clone(),
            num_items: n.saturating_sub(2),
            max_len: self.max_len,
            attention: self.attention,
            positions: self.positions,
        };
        ItemRowsView {
            model,
            input_rows,
            output_rows,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use burn::tensor::{Device, Int, Tensor};

    use crate::{GsasRecConfig, OutputEmbeddings};

    /// The loss of a batch through the view equals the loss through the full model, and the
    /// gradients of the gathered rows are the full table's gradients at those rows (the other
    /// rows get none).
    #[test]
    fn the_rows_gradients_are_those_of_the_full_tables() {
        for output in [OutputEmbeddings::Separate, OutputEmbeddings::Shared] {
            let device = Device::ndarray().autodiff();
            let model = GsasRecConfig::new(30)
                .with_dim(8)
                .with_max_len(5)
                .with_output_embeddings(output)
                .init(&device)
                .unwrap();
            let global = [[0i64, 4, 9, 4], [3, 17, 9, 25]];
            let rows: Vec<i64> = vec![0, 3, 4, 9, 17, 25, 31];
            let local: Vec<[i64; 4]> = global
                .iter()
                .map(|r| r.map(|id| rows.iter().position(|&x| x == id).unwrap() as i64))
                .collect();
            let candidates_global = [[9i64, 25, 3], [4, 17, 3]];
            let candidates_local: Vec<[i64; 3]> = candidates_global
                .iter()
                .map(|r| r.map(|id| rows.iter().position(|&x| x == id).unwrap() as i64))
                .collect();
            let loss_of = |m: &crate::GsasRec, items: Tensor<2, Int>, cand: Tensor<2, Int>| {
                let hidden = m.forward(items);
                m.score_per_sequence(hidden, cand).powi_scalar(2).mean()
            };

            let full_loss = loss_of(
                &model,
                Tensor::from_ints(global, &device),
                Tensor::from_ints(candidates_global, &device),
            );
            let mut full_grads = full_loss.backward();
            let view = model.with_item_rows(Tensor::from_ints(rows.as_slice(), &device));
            let local_loss = loss_of(
                &view.model,
                Tensor::from_data(
                    burn::tensor::TensorData::new(local.concat(), [2, 4]),
                    &device,
                ),
                Tensor::from_data(
                    burn::tensor::TensorData::new(candidates_local.concat(), [2, 3]),
                    &device,
                ),
            );
            let a: f32 = full_loss.into_scalar();
            let b: f32 = local_loss.clone().into_scalar();
            assert!((a - b).abs() < 1e-6 * a.abs().max(1.0), "{a} vs {b}");
            let mut local_grads = local_loss.backward();

            let tables = [
                (
                    model.item_embedding.weight.val(),
                    Some(view.input_rows.clone()),
                ),
                (
                    model
                        .output_embedding
                        .as_ref()
                        .map(|t| t.weight.val())
                        .unwrap_or_else(|| model.item_embedding.weight.val()),
                    view.output_rows.clone(),
                ),
            ];
            // The view's table leaves hold the rows' gradients; the full model's tables get
            // none through the view.
            assert!(
                model
                    .item_embedding
                    .weight
                    .val()
                    .grad(&local_grads)
                    .is_none()
            );
            for (table, leaf) in tables {
                let Some(leaf) = leaf else { continue };
                let want: Vec<f32> = table
                    .grad_remove(&mut full_grads)
                    .unwrap()
                    .select(
                        0,
                        Tensor::<1, Int>::from_ints(rows.as_slice(), &Device::ndarray()),
                    )
                    .into_data()
                    .to_vec()
                    .unwrap();
                let got: Vec<f32> = leaf
                    .grad_remove(&mut local_grads)
                    .unwrap()
                    .into_data()
                    .to_vec()
                    .unwrap();
                assert_eq!(want.len(), got.len());
                for (w, g) in want.iter().zip(&got) {
                    assert!((w - g).abs() <= 1e-6 + 1e-5 * w.abs(), "{w} vs {g}");
                }
            }
            // A block weight gets the same gradient through either path.
            let w = &model.blocks[0].dense1.weight;
            let want: Vec<f32> = w
                .val()
                .grad(&full_grads)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            let got: Vec<f32> = w
                .val()
                .grad(&local_grads)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            for (w, g) in want.iter().zip(&got) {
                assert!((w - g).abs() <= 1e-6 + 1e-5 * w.abs(), "{w} vs {g}");
            }
        }
    }
}
