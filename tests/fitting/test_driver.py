"""The fitter: known answer, determinism, round trip, interrupt and resume (CHECKS.md 24-26)."""
import numpy as np
import pytest

from snnp_calc import fit, read_model, write_model
from snnp_calc.dataset import Frame, read_frames
from snnp_calc.fitting.driver import split_frames
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.fitting.parallel import Ranks
from snnp_calc.fitting.tracker import Stop, Tracker
from snnp_calc.metrics import predict
from snnp_calc.model.initial import initial_model
from tests.helpers import labelled_frames, small_model

EXACT = LossWeights(energy=1.0, forces=0.01, stress=1e-4, smooth=0.0, l2=0.0)


@pytest.fixture(scope="module")
def truth():
    return small_model()


def perturbed(truth, scale=1e-3):
    rng = np.random.default_rng(1)
    v = truth.to_vector()
    return truth.from_vector(v * (1 + scale * rng.normal(size=len(v))))


def test_known_answer_is_recovered(truth):
    frames = labelled_frames(truth)
    start = perturbed(truth)
    assert max(abs(p["energy"] - f.energy) for p, f in zip(predict(start, frames), frames)) > 1e-4
    model, report = fit(start, frames, weights=EXACT, method="lsq", validation=0.0, max_iter=60,
                        patience=10 ** 6, progress=None)
    for p, f in zip(predict(model, frames), frames):
        assert p["energy"] == pytest.approx(f.energy, rel=1e-8)
        np.testing.assert_allclose(p["forces"], f.forces, atol=1e-8 * np.abs(f.forces).max())


def test_lbfgs_drives_the_loss_down(truth):
    from snnp_calc.fitting.loss import loss_and_gradient
    from snnp_calc.fitting.training_set import pack_frames
    frames = labelled_frames(truth)
    start = perturbed(truth)
    data = pack_frames(frames, truth.species, truth.cutoff)
    before = loss_and_gradient(start.to_vector(), start, data, EXACT)[0]
    model, _ = fit(start, frames, weights=EXACT, method="lbfgs", validation=0.0, max_iter=300,
                   patience=10 ** 6, progress=None)
    after = loss_and_gradient(model.to_vector(), model, data, EXACT)[0]
    assert after < 1e-4 * before


def test_same_seed_same_model(truth):
    frames = labelled_frames(truth, n=6)
    kwargs = dict(weights=LossWeights(), max_iter=15, validation=0.34, progress=None,
                  n_rho=2, n_triplet=2, hidden=(4,), n_knots=6)
    a, _ = fit("s-nnp", frames, seed=3, **kwargs)
    b, _ = fit("s-nnp", frames, seed=3, **kwargs)
    c, _ = fit("s-nnp", frames, seed=4, **kwargs)
    np.testing.assert_array_equal(a.to_vector(), b.to_vector())
    assert not np.array_equal(a.to_vector(), c.to_vector())


def test_fit_write_read_predict(truth, tmp_path):
    frames = labelled_frames(truth, n=5)
    model, report = fit("s-meam", frames, max_iter=10, validation=0.0, progress=None)
    write_model(model, tmp_path / "m.json")
    again = read_model(tmp_path / "m.json")
    assert again.equals(model)
    for p, q in zip(predict(model, frames), predict(again, frames)):
        assert p["energy"] == q["energy"]
        np.testing.assert_array_equal(p["forces"], q["forces"])
    assert again.metadata["fit"]["errors"]["train"]["all"]["n_structures"] == 5
    assert set(report) >= {"train", "iterations", "seconds", "stopped"}


def test_interrupt_keeps_best_and_resume_continues(truth, tmp_path):
    frames = labelled_frames(truth, n=6)
    lines = []

    def progress(line):
        # a user pressing Ctrl-C once, during the 8th iteration's report
        lines.append(line)
        if sum(l.strip()[:1].isdigit() for l in lines) == 8 and line.strip()[:1].isdigit():
            raise KeyboardInterrupt

    ckpt = tmp_path / "ckpt.json"
    model, report = fit("s-nnp", frames, max_iter=100, validation=0.34, progress=progress,
                        checkpoint=ckpt, checkpoint_every=3, n_rho=2, n_triplet=1, hidden=(3,),
                        n_knots=6)
    assert "interrupted" in report["stopped"]
    assert report["iterations"] == 8
    saved = read_model(ckpt)
    assert saved.metadata["checkpoint"]["iteration"] == 6
    resumed, report2 = fit(saved, frames, max_iter=5, validation=0.34, progress=None)
    assert report2["iterations"] == 5
    assert report2["best_loss"] <= saved.metadata["checkpoint"]["best_loss"]


def test_early_stopping(truth):
    frames = labelled_frames(truth, n=6)
    _, report = fit("s-meam", frames, max_iter=500, patience=3, validation=0.34, progress=None)
    assert "early stop" in report["stopped"] or report["iterations"] < 500


def test_bad_data_raise(truth, tmp_path):
    frames = labelled_frames(truth, n=3)
    only_mo = initial_model(["Mo"], 4.4, n_rho=1, n_triplet=1, hidden=(2,))
    with pytest.raises(ValueError, match="synthetic 1: element\\(s\\) Ni not in the model"):
        fit(only_mo, frames, validation=0.0, progress=None)
    crowded = frames[0].atoms.copy()
    crowded.positions[1] = crowded.positions[0]
    bad = Frame(crowded, 0.0, np.zeros((len(crowded), 3)), None, "x", "crowded frame")
    with pytest.raises(ValueError, match="crowded frame: atoms closer than"):
        fit(truth, [bad], validation=0.0, progress=None)
    with pytest.raises(ValueError, match="validation fraction"):
        split_frames(frames, 1.5, 0)
    (tmp_path / "bad.xyz").write_text("2\nLattice=\"3 0 0 0 3 0 0 0 3\" "
                                      "Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
                                      "Mo 0 0 0\nMo 1.5 1.5 1.5\n")
    with pytest.raises(ValueError, match="bad.xyz:0: frame has no reference energy"):
        fit("s-meam", str(tmp_path / "bad.xyz"), progress=None)


def test_training_stress_sign(zuo_dir):
    """ASE convention in the data: the most compressed Elastic cell has negative stress."""
    frames = [f for f in read_frames(zuo_dir / "Mo" / "train.xyz") if f.config_type == "Elastic"]
    volume = np.array([f.atoms.get_volume() / len(f.atoms) for f in frames])
    trace = np.array([f.stress[:3].sum() for f in frames])
    assert trace[np.argmin(volume)] < 0 < trace[np.argmax(volume)]


def test_validation_split_holds_out_one_block_per_config_type(truth):
    frames = labelled_frames(truth, n=20)
    for seed in (0, 1, 2):
        train, val = split_frames(frames, 0.2, seed)
        assert len(val) == 4 and len(train) + len(val) == 20
        assert split_frames(frames, 0.2, seed) == (train, val)
        for config_type in ("bulk", "strained"):
            members = [f for f in frames if f.config_type == config_type]
            held = [k for k, f in enumerate(members) if f in val]
            assert held == list(range(held[0], held[0] + len(held))), held
    starts = {tuple(frames.index(f) for f in split_frames(frames, 0.2, s)[1]) for s in range(6)}
    assert len(starts) > 1


class _Stub:
    """An objective whose only use here is its starting vector and model."""

    def __init__(self, model):
        self.model = model
        self.ranks = Ranks()

    def start(self):
        return self.model.to_vector()

    def model_vector(self, u):
        return u


def test_early_stopping_waits_for_a_quarter_of_the_budget(truth):
    """A loss that only rises: the tracker stops 25 iterations (a quarter of 100) after the best."""
    tracker = Tracker(_Stub(truth), None, max_iter=100, patience=1, checkpoint=None,
                      checkpoint_every=10, progress=None, max_time=None, start=0.0)
    u = truth.to_vector()
    with pytest.raises(Stop, match="early stop"):
        for k in range(100):
            tracker(u, 1.0 + k, (0.0, 0.0))
    assert tracker.iteration == 26 and tracker.best[2] == 1


def test_early_stopping_looks_at_the_smoothed_loss(truth):
    """A noisy loss around a slowly falling trend does not stop the fit at a lucky dip."""
    tracker = Tracker(_Stub(truth), None, max_iter=200, patience=50, checkpoint=None,
                      checkpoint_every=10, progress=None, max_time=None, start=0.0)
    rng = np.random.default_rng(0)
    u = truth.to_vector()
    losses = 10.0 - 0.01 * np.arange(200) + rng.normal(0, 0.5, 200)
    # unsmoothed, the best loss would be older than the patience of 50 at some point
    best_age = np.arange(200) - np.array([np.argmin(losses[:k + 1]) for k in range(200)])
    assert best_age.max() >= 50
    with pytest.raises(Stop, match="200 iterations done"):
        for loss in losses:
            tracker(u, loss, (0.0, 0.0))


def test_checkpoint_failure_keeps_the_fit(truth, tmp_path):
    frames = labelled_frames(truth, n=4)
    lines = []
    model, report = fit(perturbed(truth), frames, weights=EXACT, max_iter=6, validation=0.0,
                        checkpoint=tmp_path / "missing" / "c.json", checkpoint_every=2,
                        progress=lines.append)
    assert report["iterations"] == 6 and "checkpoint_error" in report
    assert any("checkpoint not written" in line for line in lines)


def test_empty_frames_are_refused(truth, tmp_path):
    from ase import Atoms
    empty = Frame(Atoms(), 0.0, np.zeros((0, 3)), None, "default", "empty.xyz:0")
    with pytest.raises(ValueError, match="empty.xyz:0: frame has no atoms"):
        fit(truth, [empty] + labelled_frames(truth, n=2), validation=0.0, progress=None)
    (tmp_path / "e.xyz").write_text("0\nenergy=0.0 Properties=species:S:1:pos:R:3:forces:R:3\n")
    with pytest.raises(ValueError, match="e.xyz:0: frame has no atoms"):
        fit("s-nnp", str(tmp_path / "e.xyz"), progress=None)
