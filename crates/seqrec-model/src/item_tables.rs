//! The model over other item tables, for training on catalogues too large for a dense update.
//!
//! A training batch reads few rows of the item tables: its inputs, targets and negatives. The
//! trainer's sparse item updates keep the tables apart from the model and score each batch
//! through the rows it touches ([`GsasRec::with_item_tables`] with those rows as autodiff
//! leaves, the batch's ids rewritten as positions in them), so that the backward pass gives
//! gradients for those rows and nothing else, and only they are updated.

use burn::module::Param;
use burn::nn::Embedding;
use burn::tensor::Tensor;

use crate::model::GsasRec;

impl GsasRec {
    /// This model with `input` `[n, dim]` as its input item table and `output` as its separate
    /// output table (for a model with separate output embeddings; `None`, or a model with
    /// shared embeddings, scores against `input`): a model of `n − 2` items, row 0 the padding
    /// and row `n − 1` the mask token. The blocks, norms, position embeddings and repeat term
    /// are this model's own parameters, so gradients reach them as usual; the tables are used
    /// as given (autodiff leaves whose gradients the caller reads, or full tables to score).
    ///
    /// ```
    /// use burn::tensor::{Device, Int, Tensor};
    /// use seqrec_model::GsasRecConfig;
    ///
    /// let device = Device::ndarray();
    /// let model = GsasRecConfig::new(50).with_dim(8).with_max_len(6).init(&device).unwrap();
    /// // Rows 0 (padding), 7, 9, 12 and 51 (the mask token) of the 52-row tables.
    /// let rows = Tensor::<1, Int>::from_ints([0, 7, 9, 12, 51], &device);
    /// let table = |t: &burn::nn::Embedding| t.weight.val().select(0, rows.clone());
    /// let output = model.output_embedding.as_ref().map(table);
    /// let view = model.with_item_tables(table(&model.item_embedding), output);
    /// assert_eq!(view.num_items, 3);
    /// // Local ids 1 and 2 are items 7 and 9: the same hidden states.
    /// let local = view.forward(Tensor::<2, Int>::from_ints([[0, 1, 2]], &device));
    /// let global = model.forward(Tensor::<2, Int>::from_ints([[0, 7, 9]], &device));
    /// let gap: f32 = (local - global).abs().max().into_scalar();
    /// assert!(gap < 1e-6);
    /// ```
    pub fn with_item_tables(&self, input: Tensor<2>, output: Option<Tensor<2>>) -> GsasRec {
        let table = |rows: Tensor<2>| Embedding {
            weight: Param::from_tensor(rows),
        };
        let [n, _] = input.dims();
        let output_embedding = match (&self.output_embedding, output) {
            (Some(_), Some(output)) => Some(table(output)),
            _ => None,
        };
        GsasRec {
            item_embedding: table(input),
            position_embedding: self.position_embedding.clone(),
            blocks: self.blocks.clone(),
            final_norm: self.final_norm.clone(),
            output_embedding,
            embedding_dropout: self.embedding_dropout.clone(),
            repeat: self.repeat.clone(),
            num_items: n.saturating_sub(2),
            max_len: self.max_len,
            attention: self.attention,
            positions: self.positions,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Device::ndarray` is the test backend.

    use burn::tensor::{Device, Int, Tensor};

    use crate::{GsasRecConfig, OutputEmbeddings};

    /// Rows `rows` of `table` as a new leaf that requires gradients (the table gets none).
    fn leaf(table: &burn::nn::Embedding, rows: &[i64]) -> Tensor<2> {
        let rows = Tensor::<1, Int>::from_ints(rows, &Device::ndarray());
        table
            .weight
            .val()
            .inner()
            .select(0, rows)
            .autodiff()
            .require_grad()
    }

    /// The loss of a batch through the model over gathered rows equals the loss through the
    /// full model, and the gradients of the gathered rows are the full table's gradients at
    /// those rows (the full tables get none).
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
            let input_rows = leaf(&model.item_embedding, &rows);
            let output_rows = model.output_embedding.as_ref().map(|t| leaf(t, &rows));
            let view = model.with_item_tables(input_rows.clone(), output_rows.clone());
            let local_loss = loss_of(
                &view,
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
                (model.item_embedding.weight.val(), Some(input_rows.clone())),
                (
                    model
                        .output_embedding
                        .as_ref()
                        .map(|t| t.weight.val())
                        .unwrap_or_else(|| model.item_embedding.weight.val()),
                    output_rows.clone(),
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
