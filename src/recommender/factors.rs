//! The factor model behind `collaborative` (`docs/model.md` §8f): viewer and item factors
//! and biases learned online by stochastic gradient steps from the observed signal (§6), and
//! the retrieval index over the item factors.
//!
//! Biased matrix factorisation (Koren, Bell and Volinsky 2009): the predicted signal of viewer
//! u for item i is ŷ = μ̄ + b_u + b_i + p_u · q_i. Between steps, every viewer's one observation
//! of the step first moves the viewer's factors (all viewers in parallel, against the item
//! factors of the step), then each item's observations move its factors in viewer order (all
//! items in parallel, against the viewers' new factors): the arithmetic of every update is
//! fixed, so results are the same for any thread count. The model reads observed behaviour
//! only; nothing here can see a latent interest or taste.

use super::{ItemIdx, Shared};
use crate::cache::{self, L1};
use crate::catalog::Catalog;
use crate::rng::{Purpose, stream};
use crate::scenario::{CollaborativeConfig, Scenario};
use crate::taste::gaussian;
use rayon::prelude::*;

/// What a `Factors` stream is for, its `step` part of the key.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Draw {
    Viewer = 0,
    Item = 1,
    Planes = 2,
}

/// Where the initial factors come from: N(0, σ₀²) per dimension, from the stream (seed,
/// replicate, viewer or item, factors, [`Draw`]).
#[derive(Debug, Clone, Copy)]
struct Initial {
    seed: u64,
    replicate: u32,
    /// σ₀.
    scale: f64,
}

impl Initial {
    /// The initial factors of viewer or item `e` into `row`.
    fn draw(self, e: usize, which: Draw, row: &mut [f32]) {
        let mut rng = stream(
            self.seed,
            self.replicate,
            e as u64,
            Purpose::Factors,
            which as u64,
        );
        gaussian(&mut rng, self.scale, row);
    }
}

/// Viewers (or items) per parallel task in the updates.
const CHUNK: usize = 1024;

/// The inner product of two factor vectors, summed in 8 lanes and then the lanes in order: a
/// fixed order (so a fixed result) that the compiler can vectorise.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // The default F = 16 as arrays of known length: the same sums in the same order, but
    // unrolled into vector instructions (the slices' loop cost about 140 instructions a dot).
    if let (Ok(a), Ok(b)) = (<&[f32; 16]>::try_from(a), <&[f32; 16]>::try_from(b)) {
        return dot16(a, b);
    }
    dot_slices(a, b)
}

/// [`dot_slices`] for F = 16 in SSE2 (part of every x86-64): lanes 0..4 and 4..8 in two registers,
/// then the lanes' sum in [`sum_lanes`]'s order. Each operation is the scalar one per lane
/// (IEEE single precision, no fused multiply-add), so the result is the same to the bit; the
/// compiler's own vectorisation of a 16-float array's loop spent about 50 instructions a dot
/// on shuffles.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn dot16(a: &[f32; 16], b: &[f32; 16]) -> f32 {
    use std::arch::x86_64::{
        __m128, _mm_add_ps, _mm_add_ss, _mm_cvtss_f32, _mm_loadu_ps, _mm_movehl_ps, _mm_mul_ps,
        _mm_setzero_ps, _mm_shuffle_ps,
    };
    // SAFETY: SSE2 is in every x86-64 target; each load reads 4 floats at offsets 0, 4, 8 and
    // 12 of 16-float arrays, unaligned loads allowed.
    unsafe {
        let ld = |x: &[f32; 16], i: usize| -> __m128 { _mm_loadu_ps(x.as_ptr().add(i)) };
        let zero = _mm_setzero_ps();
        // lanes[l] = (0 + a[l] b[l]) + a[8 + l] b[8 + l], as `dot_slices` sums them.
        let lo = _mm_add_ps(zero, _mm_mul_ps(ld(a, 0), ld(b, 0)));
        let hi = _mm_add_ps(zero, _mm_mul_ps(ld(a, 4), ld(b, 4)));
        let lo = _mm_add_ps(lo, _mm_mul_ps(ld(a, 8), ld(b, 8)));
        let hi = _mm_add_ps(hi, _mm_mul_ps(ld(a, 12), ld(b, 12)));
        // s = (l0 + l1, l2 + l3, l4 + l5, l6 + l7); then (s0 + s1) + (s2 + s3).
        let even = _mm_shuffle_ps::<0b10_00_10_00>(lo, hi);
        let odd = _mm_shuffle_ps::<0b11_01_11_01>(lo, hi);
        let s = _mm_add_ps(even, odd);
        let t = _mm_add_ps(s, _mm_shuffle_ps::<0b10_11_00_01>(s, s));
        _mm_cvtss_f32(_mm_add_ss(t, _mm_movehl_ps(t, t)))
    }
}

/// [`dot_slices`] for F = 16 where SSE2 is not known to be there (the length is known once
/// inlined, so the compiler unrolls it).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn dot16(a: &[f32; 16], b: &[f32; 16]) -> f32 {
    dot_slices(a, b)
}

/// The lanes' sum, in a fixed order.
#[inline(always)]
fn sum_lanes(lanes: &[f32; 8]) -> f32 {
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

/// [`dot`] for slices of any length.
#[inline(always)]
fn dot_slices(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        lanes[l] += x * y;
    }
    sum_lanes(&lanes)
}

/// One stochastic gradient step of a factor vector and its bias for an observation with error
/// `e` = y − ŷ against the other side's factors `other`: x ← x + η (e · other − λ x),
/// b ← b + η (e − λ b).
#[inline(always)]
pub fn sgd_step(x: &mut [f32], bias: &mut f32, other: &[f32], e: f32, rate: f32, reg: f32) {
    for (x, o) in x.iter_mut().zip(other) {
        *x += rate * (e * o - reg * *x);
    }
    *bias += rate * (e - reg * *bias);
}

/// Viewer and item factors, the global mean signal, and the retrieval index.
#[derive(Debug, Clone)]
pub struct Factors {
    /// F, the dimensions.
    pub dims: usize,
    rate: f32,
    reg: f32,
    /// p_u: F floats per viewer.
    pub viewer: Vec<f32>,
    /// b_u.
    pub viewer_bias: Vec<f32>,
    /// q_i: F floats per item of the catalog (0 for an item not yet visible).
    pub item: Vec<f32>,
    /// b_i.
    pub item_bias: Vec<f32>,
    /// μ̄, the mean observed signal so far (`recommender.profile_prior` before any).
    pub mean: f32,
    initial: Initial,
    sum: f64,
    count: u64,
    /// Items whose factors are set: the visible prefix of the catalog.
    n_visible: usize,
    /// Per viewer, the step's observed signal (NaN: no impression).
    signals: Vec<f32>,
    /// Per viewer, the step's item.
    items_seen: Vec<ItemIdx>,
    /// The step's viewers grouped by item, in viewer order within an item (`starts` per item).
    order: Vec<u32>,
    starts: Vec<u32>,
    /// The retrieval index.
    pub index: CellIndex,
    /// Per item: its factors changed since its cell was last computed (or never computed).
    stale: Vec<bool>,
}

/// The inverted-file index of `collaborative`'s retrieval: each visible item is in the cell
/// named by the signs of its factors' inner products with b random hyperplanes (SimHash,
/// Charikar 2002); each cell keeps its items and their mean factor and bias.
#[derive(Debug, Clone)]
pub struct CellIndex {
    /// b hyperplanes of F floats.
    planes: Vec<f32>,
    bits: usize,
    cell_of: Vec<u16>,
    /// Items per cell: `items[starts[c]..starts[c + 1]]`, in item order.
    starts: Vec<u32>,
    items: Vec<ItemIdx>,
    /// Mean factor (F floats) and mean bias of each cell's items (0 for an empty cell).
    centroid: Vec<f32>,
    centroid_bias: Vec<f32>,
    /// The mean factors again, transposed in blocks of [`QUAD`] cells (the last block padded
    /// with zeros): dimension d of cell `QUAD` k + j is `blocks[(k F + d) QUAD + j]`, so that a
    /// viewer's affinities to four cells are one vector operation per dimension.
    blocks: Vec<f32>,
    /// The mean biases, padded like `blocks`.
    block_bias: Vec<f32>,
}

/// Cells per block of [`CellIndex`]'s transposed mean factors: one SSE register of floats.
const QUAD: usize = 4;

impl Factors {
    /// The model of an arm at step 0: initial factors drawn N(0, σ₀²) per viewer and visible
    /// item (a later upload's in [`reveal`](Self::reveal), if it needs them), biases 0, the
    /// items visible at step 0 indexed.
    pub fn new(
        config: &CollaborativeConfig,
        scenario: &Scenario,
        catalog: &Catalog,
        n_viewers: usize,
        replicate: u32,
        n_visible: usize,
    ) -> Factors {
        let d = config.dimensions as usize;
        let seed = scenario.scenario.seed;
        let initial = Initial {
            seed,
            replicate,
            scale: config.init_scale,
        };
        let draw = |rows: &mut [f32], which: Draw| {
            rows.par_chunks_mut(d)
                .enumerate()
                .for_each(|(e, row)| initial.draw(e, which, row));
        };
        let n_items = catalog.items.len();
        let (mut viewer, mut item) = (vec![0f32; n_viewers * d], vec![0f32; n_items * d]);
        draw(&mut viewer, Draw::Viewer);
        // The items uploaded later are drawn when they become visible, if they need a draw.
        draw(&mut item[..n_visible * d], Draw::Item);
        let bits = config.cell_bits as usize;
        let mut planes = vec![0f32; bits * d];
        let mut rng = stream(seed, replicate, 0, Purpose::Factors, Draw::Planes as u64);
        gaussian(&mut rng, 1.0, &mut planes);
        let cells = 1usize << bits;
        let mut factors = Factors {
            dims: d,
            rate: config.learning_rate as f32,
            reg: config.regularization as f32,
            viewer,
            viewer_bias: vec![0.0; n_viewers],
            item,
            item_bias: vec![0.0; n_items],
            mean: scenario.recommender.profile_prior as f32,
            initial,
            sum: 0.0,
            count: 0,
            n_visible,
            signals: vec![f32::NAN; n_viewers],
            items_seen: vec![0; n_viewers],
            order: vec![0; n_viewers],
            starts: vec![0; n_items + 1],
            index: CellIndex {
                planes,
                bits,
                cell_of: vec![0; n_items],
                starts: vec![0; cells + 1],
                items: Vec::with_capacity(n_items),
                centroid: vec![0.0; cells * d],
                centroid_bias: vec![0.0; cells],
                blocks: vec![0.0; cells.next_multiple_of(QUAD) * d],
                block_bias: vec![0.0; cells.next_multiple_of(QUAD)],
            },
            stale: vec![true; n_items],
        };
        factors.rebuild_index();
        factors
    }

    /// Viewer `u`'s factors p_u.
    #[inline(always)]
    pub fn viewer_row(&self, u: usize) -> &[f32] {
        &self.viewer[u * self.dims..(u + 1) * self.dims]
    }

    /// Item `i`'s factors q_i.
    #[inline(always)]
    pub fn item_row(&self, i: ItemIdx) -> &[f32] {
        let i = i as usize;
        &self.item[i * self.dims..(i + 1) * self.dims]
    }

    /// The item factors as rows of `F` floats, if the model has F dimensions: a row at known
    /// length is one bound check, and [`dot`] on it needs no test of the length.
    #[inline]
    pub fn item_rows<const F: usize>(&self) -> Option<&[[f32; F]]> {
        (self.dims == F).then(|| self.item.as_chunks::<F>().0)
    }

    /// Asks the cache for item `i`'s factors (a row may span two lines) and bias. The
    /// addresses are computed, not indexed: a hint at any address is harmless, so it needs
    /// no bound check.
    #[inline(always)]
    pub fn prefetch(&self, i: ItemIdx) {
        let size = size_of::<f32>();
        let row = self.item.as_ptr() as usize + i as usize * self.dims * size;
        cache::line::<L1>(row);
        cache::line::<L1>(row + (self.dims.max(1) - 1) * size);
        cache::line::<L1>(self.item_bias.as_ptr() as usize + i as usize * size);
    }

    /// The predicted signal ŷ = μ̄ + b_u + b_i + p_u · q_i for a viewer with factors `p` and
    /// bias `b_u`.
    #[inline(always)]
    pub fn predict(&self, p: &[f32], b_u: f32, i: ItemIdx) -> f32 {
        self.signal(b_u, i, dot(p, self.item_row(i)))
    }

    /// [`predict`](Self::predict) from the inner product p_u · q_i.
    #[inline(always)]
    pub fn signal(&self, b_u: f32, i: ItemIdx, dot: f32) -> f32 {
        self.mean + b_u + self.item_bias[i as usize] + dot
    }

    /// Learns from one step: `observed(u)` is viewer u's item and observed signal, or None.
    /// First every viewer's factors step against the item factors of the step; then every
    /// item's factors step through its observations in viewer order, against the viewers' new
    /// factors; then μ̄ takes in the step's signals (summed in viewer order).
    pub fn learn(&mut self, observed: impl Fn(usize) -> Option<(ItemIdx, f32)> + Sync) {
        let d = self.dims;
        let (rate, reg) = (self.rate, self.reg);
        // The viewers: one observation each, kept for the items' pass.
        let (item, item_bias, mean) = (&self.item, &self.item_bias, self.mean);
        self.viewer
            .par_chunks_mut(d)
            .zip(self.viewer_bias.par_iter_mut())
            .zip(self.signals.par_iter_mut())
            .zip(self.items_seen.par_iter_mut())
            .enumerate()
            .with_min_len(CHUNK)
            .for_each(|(u, (((p, b_u), y), i))| {
                let Some((seen, signal)) = observed(u) else {
                    *y = f32::NAN;
                    return;
                };
                (*y, *i) = (signal, seen);
                let i = seen as usize;
                let q = &item[i * d..(i + 1) * d];
                let e = signal - (mean + *b_u + item_bias[i] + dot(p, q));
                sgd_step(p, b_u, q, e, rate, reg);
            });
        self.group_by_item();
        // The items: their observations in viewer order, CHUNK items a task, passing over the
        // items nobody saw at the cost of one comparison.
        let (signals, viewer, viewer_bias) = (&self.signals, &self.viewer, &self.viewer_bias);
        let (order, starts) = (&self.order, &self.starts);
        let n = self.n_visible;
        self.item[..n * d]
            .par_chunks_mut(CHUNK * d)
            .zip(self.item_bias[..n].par_chunks_mut(CHUNK))
            .zip(self.stale[..n].par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(k, ((rows, biases), stale))| {
                let starts = starts[k * CHUNK..].windows(2);
                let items = rows.chunks_exact_mut(d).zip(biases).zip(stale).zip(starts);
                for (((q, b_i), stale), range) in items {
                    let seen = &order[range[0] as usize..range[1] as usize];
                    if seen.is_empty() {
                        continue;
                    }
                    *stale = true;
                    for &u in seen {
                        let u = u as usize;
                        let p = &viewer[u * d..(u + 1) * d];
                        let e = signals[u] - (mean + viewer_bias[u] + *b_i + dot(p, q));
                        sgd_step(q, b_i, p, e, rate, reg);
                    }
                }
            });
        for &y in signals.iter().filter(|y| !y.is_nan()) {
            self.sum += f64::from(y);
            self.count += 1;
        }
        if self.count > 0 {
            self.mean = (self.sum / self.count as f64) as f32;
        }
    }

    /// Groups the step's viewers by item, in viewer order within an item.
    fn group_by_item(&mut self) {
        let (signals, items_seen) = (&self.signals, &self.items_seen);
        let key = |u: usize| (!signals[u].is_nan()).then(|| items_seen[u] as usize);
        group(
            self.n_visible,
            signals.len(),
            key,
            &mut self.starts,
            &mut self.order,
        );
    }

    /// Sets the factors of the items that became visible (up to `n_visible`), in upload
    /// order: each starts from the mean factor and bias of its creator's earlier items, or
    /// failing those of its topic's earlier items, or from its initial draw (made now: the
    /// same numbers as at step 0, from the item's own stream); then rebuilds the index.
    pub fn reveal(&mut self, catalog: &Catalog, n_visible: usize) {
        let d = self.dims;
        for i in self.n_visible..n_visible {
            let item = &catalog.items[i];
            let earlier = |list: &[ItemIdx]| list.partition_point(|&j| (j as usize) < i);
            let creator = &catalog.creator_items[item.creator as usize];
            let topic = &catalog.topic_items[item.topic as usize];
            let from = match earlier(creator) {
                0 => &topic[..earlier(topic)],
                n => &creator[..n],
            };
            if from.is_empty() {
                self.initial
                    .draw(i, Draw::Item, &mut self.item[i * d..(i + 1) * d]);
                continue;
            }
            let (head, tail) = self.item.split_at_mut(i * d);
            let (biases, bias) = self.item_bias.split_at_mut(i);
            mean_of(&mut tail[..d], &mut bias[0], head, biases, from);
        }
        self.stale[self.n_visible..n_visible].fill(true);
        self.n_visible = n_visible;
        self.rebuild_index();
    }

    /// Puts every visible item in its cell and recomputes each cell's mean. Only the items
    /// whose factors changed since their cell was computed are hashed again: the others'
    /// cells are what hashing them would give.
    fn rebuild_index(&mut self) {
        let d = self.dims;
        let n = self.n_visible;
        let ix = &mut self.index;
        let (planes, bits) = (&ix.planes, ix.bits);
        ix.cell_of[..n]
            .par_iter_mut()
            .zip(self.item[..n * d].par_chunks(d))
            .zip(self.stale[..n].par_iter_mut())
            .with_min_len(CHUNK)
            .for_each(|((cell, q), stale)| {
                if *stale {
                    *cell = (0..bits).fold(0u16, |c, b| {
                        c | u16::from(dot(&planes[b * d..(b + 1) * d], q) >= 0.0) << b
                    });
                    *stale = false;
                }
            });
        ix.items.resize(n, 0);
        let cell_of = &ix.cell_of;
        group(
            ix.centroid_bias.len(),
            n,
            |i| Some(cell_of[i] as usize),
            &mut ix.starts,
            &mut ix.items,
        );
        let (items, starts, item, item_bias) = (&ix.items, &ix.starts, &self.item, &self.item_bias);
        ix.centroid
            .par_chunks_mut(d)
            .zip(ix.centroid_bias.par_iter_mut())
            .enumerate()
            .for_each(|(c, (centre, bias))| {
                let members = &items[starts[c] as usize..starts[c + 1] as usize];
                mean_of(centre, bias, item, item_bias, members);
            });
        ix.transpose();
    }
}

impl CellIndex {
    /// Number of cells, 2^b.
    #[inline]
    pub fn n_cells(&self) -> usize {
        self.centroid_bias.len()
    }

    /// The items of cell `c`.
    #[inline]
    pub fn cell(&self, c: usize) -> &[ItemIdx] {
        &self.items[self.starts[c] as usize..self.starts[c + 1] as usize]
    }

    /// How well cell `c`'s mean item suits a viewer with factors `p`: b̄_c + p · q̄_c.
    #[inline]
    pub fn affinity(&self, c: usize, p: &[f32]) -> f32 {
        let d = p.len();
        self.centroid_bias[c] + dot(p, &self.centroid[c * d..(c + 1) * d])
    }

    /// Every cell's [`affinity`](Self::affinity) for a viewer with factors `p`, in cell order,
    /// into `out` (cleared first): the same values to the bit, for F = 16 four cells at a time.
    pub fn affinities(&self, p: &[f32], out: &mut Vec<f32>) {
        out.clear();
        match <&[f32; 16]>::try_from(p) {
            Ok(p) => {
                out.resize(self.block_bias.len(), 0.0);
                quad_affinities(&self.blocks, &self.block_bias, p, out);
                out.truncate(self.n_cells());
            }
            Err(_) => out.extend((0..self.n_cells()).map(|c| self.affinity(c, p))),
        }
    }

    /// Copies the cells' means into `blocks` and `block_bias`.
    fn transpose(&mut self) {
        let d = self.centroid.len() / self.n_cells();
        for (c, centre) in self.centroid.chunks_exact(d).enumerate() {
            let (k, j) = (c / QUAD, c % QUAD);
            for (x, &y) in centre.iter().enumerate() {
                self.blocks[(k * d + x) * QUAD + j] = y;
            }
        }
        let n = self.n_cells();
        self.block_bias[..n].copy_from_slice(&self.centroid_bias);
    }
}

/// Four cells' affinities at a time, for F = 16, in SSE2: per cell, [`dot16`]'s eight lanes
/// (lane l is 0 + the products of dimensions l and 8 + l, in that order) and its sum of the
/// lanes, then the bias plus that. Each operation is the scalar one per cell, so every affinity
/// is the one [`CellIndex::affinity`] computes, to the bit; the compiler's own vectorisation of
/// the same arithmetic on arrays of four cost about 170 instructions a block, this about 70.
#[cfg(target_arch = "x86_64")]
fn quad_affinities(blocks: &[f32], bias: &[f32], p: &[f32; 16], out: &mut [f32]) {
    use std::arch::x86_64::{
        __m128, _mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_set1_ps, _mm_setzero_ps, _mm_storeu_ps,
    };
    // SAFETY: SSE2 is in every x86-64 target; each load reads 4 floats at offset 4 d (d < 16)
    // of a block of 64, or a chunk of 4 biases, and each store writes a chunk of 4 outputs:
    // all inside their slices (`chunks_exact`), unaligned access allowed.
    unsafe {
        let coordinate: [__m128; 16] = std::array::from_fn(|d| _mm_set1_ps(p[d]));
        let zero = _mm_setzero_ps();
        let blocks = blocks.chunks_exact(16 * QUAD).zip(bias.chunks_exact(QUAD));
        for ((block, bias), out) in blocks.zip(out.chunks_exact_mut(QUAD)) {
            let product = |d: usize| _mm_mul_ps(coordinate[d], _mm_loadu_ps(block.as_ptr().add(d * QUAD)));
            let lane = |l: usize| _mm_add_ps(_mm_add_ps(zero, product(l)), product(8 + l));
            let pair = |l: usize| _mm_add_ps(lane(l), lane(l + 1));
            let dots = _mm_add_ps(_mm_add_ps(pair(0), pair(2)), _mm_add_ps(pair(4), pair(6)));
            _mm_storeu_ps(out.as_mut_ptr(), _mm_add_ps(_mm_loadu_ps(bias.as_ptr()), dots));
        }
    }
}

/// [`quad_affinities`] where SSE2 is not known to be there: the same operations, cell by cell.
#[cfg(not(target_arch = "x86_64"))]
fn quad_affinities(blocks: &[f32], bias: &[f32], p: &[f32; 16], out: &mut [f32]) {
    let blocks = blocks.chunks_exact(16 * QUAD).zip(bias.chunks_exact(QUAD));
    for ((block, bias), out) in blocks.zip(out.chunks_exact_mut(QUAD)) {
        for (j, out) in out.iter_mut().enumerate() {
            let mut lanes = [0f32; 8];
            for (d, x) in p.iter().enumerate() {
                lanes[d % 8] += x * block[d * QUAD + j];
            }
            *out = bias[j] + sum_lanes(&lanes);
        }
    }
}

/// Sets `mean` and `bias` to the mean factor row and mean bias of the items `members` (rows
/// and biases from `rows` and `biases`): each dimension summed from 0 in member order, then
/// divided by their number; 0 for no members. For F = 16 the sums run in four SSE registers
/// (dimension by dimension the same operations).
fn mean_of(mean: &mut [f32], bias: &mut f32, rows: &[f32], biases: &[f32], members: &[ItemIdx]) {
    *bias = 0.0;
    if let Ok(mean) = <&mut [f32; 16]>::try_from(&mut *mean) {
        *mean = [0.0; 16];
        sum_rows(mean, bias, rows.as_chunks().0, biases, members);
    } else {
        let d = mean.len();
        mean.fill(0.0);
        for &j in members {
            let j = j as usize;
            for (x, y) in mean.iter_mut().zip(&rows[j * d..(j + 1) * d]) {
                *x += y;
            }
            *bias += biases[j];
        }
    }
    if !members.is_empty() {
        let n = members.len() as f32;
        mean.iter_mut().for_each(|x| *x /= n);
        *bias /= n;
    }
}

/// Adds the rows and biases of `members` to `sum` and `bias`, member after member, the sum in
/// registers.
#[inline]
fn sum_rows<const F: usize>(
    sum: &mut [f32; F],
    bias: &mut f32,
    rows: &[[f32; F]],
    biases: &[f32],
    members: &[ItemIdx],
) {
    let mut acc = *sum;
    for &j in members {
        let row = &rows[j as usize];
        for x in 0..F {
            acc[x] += row[x];
        }
        *bias += biases[j as usize];
    }
    *sum = acc;
}

/// Groups entries 0..`n_entries` by key (a counting sort, stable): the entries of key k are
/// `out[starts[k]..starts[k + 1]]` in increasing order; an entry whose `key` is None is left
/// out. `starts` holds at least `n_keys` + 1 counters, `out` room for every entry kept.
fn group(
    n_keys: usize,
    n_entries: usize,
    key: impl Fn(usize) -> Option<usize>,
    starts: &mut [u32],
    out: &mut [u32],
) {
    let starts = &mut starts[..n_keys + 1];
    starts.fill(0);
    for e in 0..n_entries {
        if let Some(k) = key(e) {
            starts[k + 1] += 1;
        }
    }
    for k in 0..n_keys {
        starts[k + 1] += starts[k];
    }
    let total = starts[n_keys];
    // Filled from the last entry back, each key's end counter moving down to its start: then
    // `starts[k + 1]` holds key k's start, shifted back by one place below.
    for e in (0..n_entries).rev() {
        if let Some(k) = key(e) {
            starts[k + 1] -= 1;
            out[starts[k + 1] as usize] = e as u32;
        }
    }
    starts.copy_within(1..n_keys + 1, 0);
    starts[n_keys] = total;
}

/// The factor model an arm's `Shared` carries: None when no policy of the arm is collaborative.
pub fn of<'a>(shared: &Shared<'a>) -> &'a Factors {
    shared
        .factors
        .expect("an arm with a collaborative policy learns factors")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f32, expected: f32) {
        assert!((got - expected).abs() < 1e-6, "got {got}, expected {expected}");
    }

    /// A model of `viewers` viewers over a catalog of 40 items and 4 creators, F = 2, with
    /// learning rate 0.1 and regularisation `reg`.
    fn model(viewers: usize, reg: f64) -> (Scenario, Catalog, Factors) {
        let mut scenario = Scenario::default();
        scenario.catalog.items = 40;
        scenario.catalog.creators = 4;
        scenario.feed.max_steps = 10;
        let catalog = Catalog::generate(&scenario, 0);
        let config = CollaborativeConfig {
            dimensions: 2,
            learning_rate: 0.1,
            regularization: reg,
            cell_bits: 2,
            ..CollaborativeConfig::default()
        };
        let n = catalog.visible(0);
        let f = Factors::new(&config, &scenario, &catalog, viewers, 0, n);
        (scenario, catalog, f)
    }

    #[test]
    fn dot_sums_every_product() {
        let a: Vec<f32> = (1..=10).map(|x| x as f32).collect();
        let b = vec![0.5f32; 10];
        close(dot(&a, &b), 27.5);
        close(dot(&[1.0, 2.0], &[3.0, -4.0]), -5.0);
    }

    /// The unrolled F = 16 sum is the slices' sum to the bit: 1 + 2 + ... + 16 halves, and
    /// vectors whose lanes' order shows (a sum in another order rounds differently).
    #[test]
    fn dot_of_sixteen_is_the_slices_sum_to_the_bit() {
        let a: Vec<f32> = (1..=16).map(|x| x as f32).collect();
        close(dot(&a, &[0.5; 16]), 68.0);
        for seed in 0..50u32 {
            let v = |k: u32| -> Vec<f32> {
                (0..16u32)
                    .map(|i| {
                        ((i.wrapping_mul(2_654_435_761) ^ (seed * 40_503) ^ k) % 20_011) as f32 / 997.0 - 10.0
                    })
                    .map(|x| x * x * x)
                    .collect()
            };
            let (a, b) = (v(1), v(7));
            assert_eq!(dot(&a, &b).to_bits(), dot_slices(&a, &b).to_bits());
        }
    }

    /// After steps of learning and uploads, the index kept by re-hashing only the items whose
    /// factors changed is the index of hashing every item again.
    #[test]
    fn the_index_of_changed_items_is_the_full_index() {
        let (_, catalog, mut f) = model(30, 0.02);
        for step in 0..6usize {
            f.learn(|u| Some((((u * 7 + step * 3) % 12) as ItemIdx, (u % 4) as f32 / 3.0)));
            let n = (f.n_visible + 2).min(catalog.items.len());
            f.reveal(&catalog, n);
            let mut full = f.clone();
            full.stale.fill(true);
            full.rebuild_index();
            assert_eq!(f.index.cell_of, full.index.cell_of, "step {step}");
            assert_eq!(f.index.items, full.index.items);
            assert_eq!(f.index.starts, full.index.starts);
            let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&f.index.centroid), bits(&full.index.centroid));
        }
    }

    /// A model of F = 16 (the default) over the 40-item catalog, after a few steps of
    /// learning and uploads.
    fn learnt16(viewers: usize) -> (Catalog, Factors) {
        let (scenario, catalog, _) = model(1, 0.02);
        let config = CollaborativeConfig::default();
        let mut f = Factors::new(&config, &scenario, &catalog, viewers, 0, catalog.visible(0));
        for step in 0..5usize {
            f.learn(|u| (u % 3 != 0).then_some((((u * 7 + step * 3) % 12) as ItemIdx, (u % 4) as f32 / 3.0)));
            let n = (f.n_visible + 3).min(catalog.items.len());
            f.reveal(&catalog, n);
        }
        (catalog, f)
    }

    /// Every cell's affinity computed four cells at a time is the one computed alone, to the
    /// bit, for F = 16 and for another F.
    #[test]
    fn the_affinities_of_a_block_are_each_cells() {
        let (_, _, f2) = model(4, 0.02);
        let (_, f16) = learnt16(30);
        let mut out = Vec::new();
        for f in [&f2, &f16] {
            for u in 0..4 {
                let p = f.viewer_row(u);
                f.index.affinities(p, &mut out);
                let alone: Vec<u32> = (0..f.index.n_cells())
                    .map(|c| f.index.affinity(c, p).to_bits())
                    .collect();
                assert_eq!(out.iter().map(|a| a.to_bits()).collect::<Vec<_>>(), alone);
            }
        }
    }

    /// The mean row summed in registers (F = 16) is the mean summed in member order one float
    /// at a time, to the bit; and every cell's mean is its members'.
    #[test]
    fn the_mean_of_sixteen_is_the_plain_mean() {
        let (_, f) = learnt16(30);
        let members: Vec<ItemIdx> = vec![3, 0, 7, 7, 12, 5];
        let (mut mean, mut bias) = ([9f32; 16], 9f32);
        mean_of(&mut mean, &mut bias, &f.item, &f.item_bias, &members);
        let n = members.len() as f32;
        for (x, got) in mean.iter().enumerate() {
            let sum = members.iter().fold(0f32, |s, &j| s + f.item[j as usize * 16 + x]);
            assert_eq!(got.to_bits(), (sum / n).to_bits());
        }
        let sum = members.iter().fold(0f32, |s, &j| s + f.item_bias[j as usize]);
        assert_eq!(bias.to_bits(), (sum / n).to_bits());
        for c in 0..f.index.n_cells() {
            mean_of(&mut mean, &mut bias, &f.item, &f.item_bias, f.index.cell(c));
            assert_eq!(mean[..], f.index.centroid[c * 16..(c + 1) * 16]);
        }
    }

    #[test]
    fn a_gradient_step_by_hand() {
        // x0 = 0.1 + 0.1 (0.5 · 0.3 − 0.02 · 0.1) = 0.1148; x1 = 0.2 + 0.1 (0.5 · −0.1 − 0.02 ·
        // 0.2) = 0.1946; b = 0.5 + 0.1 (0.5 − 0.02 · 0.5) = 0.549.
        let (mut x, mut b) = ([0.1f32, 0.2], 0.5f32);
        sgd_step(&mut x, &mut b, &[0.3, -0.1], 0.5, 0.1, 0.02);
        close(x[0], 0.1148);
        close(x[1], 0.1946);
        close(b, 0.549);
    }

    /// Two viewers see item 0 at one step: viewer 0 with signal 1, viewer 1 with signal 0.
    #[test]
    fn one_step_of_learning_by_hand() {
        let (_, _, mut f) = model(2, 0.0);
        f.viewer[..4].copy_from_slice(&[1.0, 0.0, 0.0, 1.0]);
        f.item[..2].copy_from_slice(&[0.5, 0.5]);
        close(f.mean, 0.3);
        f.learn(|u| Some((0, if u == 0 { 1.0 } else { 0.0 })));
        // Viewers, against q = (0.5, 0.5): e0 = 1 − (0.3 + 0.5) = 0.2, p0 = (1.01, 0.01),
        // b0 = 0.02; e1 = 0 − 0.8, p1 = (−0.04, 0.96), b1 = −0.08.
        for (got, want) in f.viewer[..4].iter().zip([1.01, 0.01, -0.04, 0.96]) {
            close(*got, want);
        }
        close(f.viewer_bias[0], 0.02);
        close(f.viewer_bias[1], -0.08);
        // The item, viewer 0 first: e = 1 − (0.3 + 0.02 + 0 + 0.51) = 0.17, q = (0.51717,
        // 0.50017), b = 0.017; then viewer 1: ŷ = 0.3 − 0.08 + 0.017 + (−0.04 · 0.51717 + 0.96 ·
        // 0.50017) = 0.6964764, e = −0.6964764, q = (0.5199559, 0.4333083), b = −0.0526476.
        close(f.item[0], 0.519_955_9);
        close(f.item[1], 0.433_308_3);
        close(f.item_bias[0], -0.052_647_6);
        // μ̄: the mean of the two signals.
        close(f.mean, 0.5);
    }

    #[test]
    fn regularisation_shrinks_unobserved_nothing() {
        // A viewer without an impression keeps its factors; λ acts only with an observation.
        let (_, _, mut f) = model(2, 0.5);
        let before = f.viewer.clone();
        f.learn(|u| (u == 1).then_some((3, 0.4)));
        assert_eq!(f.viewer[..2], before[..2]);
        assert_ne!(f.viewer[2..], before[2..]);
    }

    #[test]
    fn grouping_is_a_stable_counting_sort() {
        let keys = [Some(2), None, Some(0), Some(2), Some(1)];
        let (mut starts, mut out) = ([9u32; 4], [9u32; 5]);
        group(3, keys.len(), |e| keys[e], &mut starts, &mut out);
        assert_eq!(starts, [0, 1, 2, 4]);
        assert_eq!(out[..4], [2, 4, 0, 3]);
    }

    #[test]
    fn a_new_item_starts_from_its_creators_mean() {
        let (_, catalog, mut f) = model(1, 0.0);
        let n0 = f.n_visible;
        let new = n0; // the first arrival
        let creator = &catalog.creator_items[catalog.items[new].creator as usize];
        let earlier: Vec<usize> = creator.iter().map(|&j| j as usize).filter(|&j| j < new).collect();
        assert!(
            !earlier.is_empty(),
            "4 creators of 40 items: every creator has items"
        );
        for (n, &j) in earlier.iter().enumerate() {
            f.item[2 * j..2 * j + 2].copy_from_slice(&[n as f32, 1.0]);
            f.item_bias[j] = 2.0;
        }
        f.reveal(&catalog, n0 + 1);
        // The mean of 0, 1, ..., m − 1 is (m − 1) / 2.
        close(f.item[2 * new], (earlier.len() as f32 - 1.0) / 2.0);
        close(f.item[2 * new + 1], 1.0);
        close(f.item_bias[new], 2.0);
        // Every visible item is in exactly one cell.
        let total: usize = (0..f.index.n_cells()).map(|c| f.index.cell(c).len()).sum();
        assert_eq!(total, n0 + 1);
    }

    /// An upload with no earlier item of its creator or topic starts from the draw it would
    /// have had at step 0; the uploads not yet visible hold 0.
    #[test]
    fn a_new_item_without_peers_starts_from_its_own_draw() {
        let (scenario, mut catalog, mut f) = model(1, 0.0);
        let n0 = f.n_visible;
        assert!(f.item[n0 * 2..].iter().all(|&x| x == 0.0));
        let item = catalog.items[n0];
        catalog.creator_items[item.creator as usize].retain(|&j| j as usize >= n0);
        catalog.topic_items[item.topic as usize].retain(|&j| j as usize >= n0);
        f.reveal(&catalog, n0 + 1);
        let config = CollaborativeConfig {
            dimensions: 2,
            cell_bits: 2,
            ..CollaborativeConfig::default()
        };
        let all = Factors::new(&config, &scenario, &catalog, 1, 0, catalog.items.len());
        assert_eq!(f.item_row(n0 as ItemIdx), all.item_row(n0 as ItemIdx));
        assert_ne!(f.item_row(n0 as ItemIdx), [0.0, 0.0]);
    }

    /// Viewers 0..10 like items 0..10 and not 10..20; viewers 10..20 the reverse. Viewer 0
    /// never sees items 9 and 19; the viewers like it watched item 9 and the others item 19.
    /// After learning, the model predicts more for viewer 0 of item 9 than of item 19: the
    /// item its similar viewers liked, by factors alone (both items have the same mean).
    #[test]
    fn learns_what_similar_viewers_watched() {
        let (_, _, mut f) = model(20, 0.02);
        for step in 0..400usize {
            f.learn(|u| {
                let mut i = (u * 7 + step * 13) % 20;
                if u == 0 && (i == 9 || i == 19) {
                    i -= 1;
                }
                let liked = (u < 10) == (i < 10);
                Some((i as ItemIdx, if liked { 1.0 } else { 0.0 }))
            });
        }
        let (p, b) = (f.viewer_row(0), f.viewer_bias[0]);
        let (similar, other) = (f.predict(p, b, 9), f.predict(p, b, 19));
        assert!(similar > other + 0.3, "item 9: {similar}, item 19: {other}");
        assert!(
            similar > 0.7 && other < 0.3,
            "item 9: {similar}, item 19: {other}"
        );
    }
}
