"""Trainer: stages, history, checkpoints that resume exactly, failure handling."""

import math

import pytest
import torch

from pinnkan.training.stages import LBFGS, Adam, Plateau
from pinnkan.training.trainer import Trainer

F64 = torch.float64


def _setup(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).to(F64)
    x = torch.linspace(-1, 1, 64, dtype=F64)[:, None]
    y = torch.sin(3 * x)

    def loss(m):
        fit = torch.mean((m(x) - y) ** 2)
        small = 1e-4 * sum(torch.sum(p**2) for p in m.parameters())
        return fit + small, {"fit": fit, "small": small}

    return model, loss


STAGES = [Adam(steps=20, lr=1e-2, final_lr=1e-3), LBFGS(steps=15)]


def test_history_records_every_term_and_loss_falls():
    model, loss = _setup()
    result = Trainer(model, loss, STAGES, progress=False).run()
    assert result.success and result.steps == 35
    assert len(result.history.records) == 35
    first, last = result.history.records[0], result.history.records[-1]
    assert math.isclose(first["total"], first["fit"] + first["small"], rel_tol=1e-12)
    assert last["total"] < 0.25 * first["total"]
    assert last["total"] < result.history.records[19]["total"]  # L-BFGS improved on Adam
    assert result.history.column("stage")[19:21] == [0.0, 1.0]



def test_each_step_records_the_learning_rate_it_used_and_terms_leave_it_out():
    model, loss = _setup()
    result = Trainer(model, loss, STAGES, progress=False).run()
    rates = result.history.column("lr")
    gamma = (1e-3 / 1e-2) ** (1 / 20)
    assert rates[:20] == pytest.approx([1e-2 * gamma**k for k in range(20)], rel=1e-12)
    assert rates[20:] == [1.0] * 15  # L-BFGS's initial step length
    assert result.history.term_names == ["fit", "small"] and set(result.history.final()) == {"total", "fit", "small"}


def test_adam_clips_decays_weights_and_lowers_the_rate_on_a_plateau():
    # Gradients of 100 x the data are clipped to norm 0.5 before the update: with lr = 1e-3 and
    # Adam's normalised steps the parameters still move, and the clipped norm is what callbacks see.
    model, loss = _setup()
    norms = []

    def record_norm(step, record):
        norms.append(math.sqrt(sum(float(p.grad.norm()) ** 2 for p in model.parameters())))

    scaled = lambda m: (100 * loss(m)[0], {})  # noqa: E731
    Trainer(model, scaled, [Adam(steps=3, clip=0.5)], progress=False, callbacks=[record_norm]).run()
    assert norms == pytest.approx([0.5] * 3, rel=1e-6)
    # decoupled weight decay alone (zero loss gradient) shrinks every weight by lr * weight_decay per step
    model = torch.nn.Linear(2, 1, dtype=F64)
    before = model.weight.detach().clone()
    zero = lambda m: ((m.weight * 0).sum() + (m.bias * 0).sum(), {})  # noqa: E731
    Trainer(model, zero, [Adam(steps=4, lr=0.1, weight_decay=0.5)], progress=False).run()
    torch.testing.assert_close(model.weight.detach(), before * (1 - 0.1 * 0.5) ** 4, rtol=1e-12, atol=0)
    # a plateau watches the total by default: a constant loss is a plateau from the second step on
    result = Trainer(torch.nn.Linear(1, 1, dtype=F64), zero, [Adam(steps=9, lr=0.1, plateau=Plateau(patience=1,
                     factor=0.5, min_lr=0.02))], progress=False).run()
    assert result.history.column("lr") == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02])
    with pytest.raises(ValueError, match="final_lr or plateau, not both"):
        Adam(steps=1, final_lr=1e-4, plateau=Plateau())
    with pytest.raises(ValueError, match="Adam.weight_decay must be a finite number >= 0"):
        Adam(steps=1, weight_decay=-1.0)

@pytest.mark.parametrize("stop_at", [13, 27])  # inside the Adam stage, inside the L-BFGS stage
def test_resume_from_checkpoint_reproduces_uninterrupted_run(tmp_path, stop_at):
    model, loss = _setup()
    reference = Trainer(model, loss, STAGES, progress=False).run()
    expected = {k: v.clone() for k, v in model.state_dict().items()}

    def interrupt(step, record):
        if step == stop_at:
            raise KeyboardInterrupt

    path = tmp_path / "ckpt.pt"
    model, loss = _setup()
    stopped = Trainer(model, loss, STAGES, checkpoint=path, checkpoint_every=5, progress=False, callbacks=[interrupt]).run()
    assert not stopped.success and "interrupted" in stopped.message

    model, loss = _setup(seed=123)  # other initial values: everything must come from the checkpoint
    trainer = Trainer(model, loss, STAGES, checkpoint=path, checkpoint_every=5, progress=False)
    trainer.resume()
    assert trainer.step == 5 * (stop_at // 5)
    resumed = trainer.run()
    assert resumed.success and resumed.steps == reference.steps
    for k, v in model.state_dict().items():
        assert torch.allclose(v, expected[k], rtol=0, atol=1e-13), k
    assert [r["total"] for r in resumed.history.records] == pytest.approx(
        [r["total"] for r in reference.history.records], rel=1e-12
    )


def test_a_loss_that_stays_non_finite_stops_after_the_retries_with_the_last_finite_parameters():
    model, _ = _setup()
    seen = []

    def loss(m):
        seen.append([p.detach().clone() for p in m.parameters()])
        value = torch.sum(m(torch.ones(1, 1, dtype=F64)) ** 2)
        if len(seen) > 3:
            value = value * float("nan")
        return value, {"fit": value}

    result = Trainer(model, loss, [Adam(steps=10, lr=0.1)], progress=False, max_retries=2).run()
    assert not result.success
    # Step 4 starts at non-finite parameters: each retry goes back to the start of step 3
    # (the last parameters with a finite loss, which evaluation 3 saw) and redoes it.
    assert "non-finite at step 3 (terms ['total', 'fit']) after 2 retries" in result.message
    assert "float64" in result.message
    assert result.steps == 2 and len(result.history.records) == 2
    assert len(seen) == 6
    for retry in seen[4:]:
        for p, q in zip(retry, seen[2]):
            assert torch.equal(p, q)
    for p, q in zip(model.parameters(), seen[2]):
        assert torch.equal(p.detach(), q)
    assert not torch.equal(seen[3][0], seen[2][0])


def test_a_passing_non_finite_loss_is_recovered_from_with_a_lower_learning_rate():
    model, _ = _setup()
    calls = []

    def loss(m):
        calls.append(1)
        value = torch.sum((m(torch.linspace(-1, 1, 8, dtype=F64)[:, None]) - 0.3) ** 2)
        if len(calls) == 6:  # one bad evaluation, e.g. an overflow
            value = value * float("inf")
        return value, {"fit": value}

    trainer = Trainer(model, loss, [Adam(steps=10, lr=0.1)], progress=False)
    result = trainer.run()
    # Evaluation 6 (the start of step 6) fails: back to the start of step 5, which is redone.
    assert result.success and result.steps == 10 and len(calls) == 12
    assert "non-finite at step 6" in result.message and "went back to step 4" in result.message
    assert "0.5 times its learning rate" in result.message
    assert trainer._optimizer is None  # the stage ended
    assert [r["step"] for r in result.history.records] == [float(i) for i in range(1, 11)]


def test_a_plateau_stage_retries_from_the_rate_it_had_reached():
    model, _ = _setup()
    calls = []

    def loss(m):  # a constant loss: a plateau from the second step on; evaluation 8 overflows once
        calls.append(1)
        value = (m[0].weight * 0).sum() + 1.0
        return (value * float("inf") if len(calls) == 8 else value), {"fit": value}

    stage = Adam(steps=10, lr=0.1, plateau=Plateau(patience=1, factor=0.5, min_lr=1e-4))
    result = Trainer(model, loss, [stage], progress=False).run()
    rates = result.history.column("lr")
    # 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025 -> 0.0125 after step 7; the failure at step 8 goes back
    # to the start of step 7, which is redone at half the rate reached (0.0125 / 2), not at half of
    # Adam's lr = 0.1; the plateau goes on lowering it from there
    assert result.success and rates[:6] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])
    assert rates[6:] == pytest.approx([0.00625, 0.00625, 0.00625, 0.003125])
    assert "non-finite at step 8" in result.message


def test_loss_terms_may_not_take_the_names_every_record_keeps():
    model, _ = _setup()

    def loss(m):
        value = torch.sum(m(torch.zeros(2, 1, dtype=F64)) ** 2)
        return value, {"lr": value}

    with pytest.raises(ValueError, match=r"loss terms may not be named \['lr'\]"):
        Trainer(model, loss, [Adam(steps=2)], progress=False).run()

def test_a_loss_non_finite_at_the_initial_parameters_names_the_problem_not_the_learning_rate():
    model, _ = _setup()

    def loss(m):
        value = torch.sum(m(torch.ones(1, 1, dtype=F64))) / torch.zeros((), dtype=F64)
        return value, {"pde": value}

    result = Trainer(model, loss, [Adam(steps=10, lr=0.1)], progress=False).run()
    assert not result.success and result.steps == 0
    assert "at the initial parameters" in result.message and "1/x at x = 0" in result.message
    assert "['total', 'pde']" in result.message


def test_a_non_finite_gradient_counts_as_a_failure():
    model, _ = _setup()
    x = torch.tensor([[0.0]], dtype=F64)

    def loss(m):
        value = torch.sqrt(torch.sum(m(x) * 0.0) ** 2)  # finite value, NaN gradient (sqrt at 0)
        return value, {"fit": value}

    result = Trainer(model, loss, [Adam(steps=5, lr=0.1)], progress=False).run()
    assert not result.success and "the gradient became non-finite at step 1" in result.message


def test_bad_stage_and_trainer_input_names_the_fix(tmp_path):
    model, loss = _setup()
    with pytest.raises(ValueError, match="Adam.steps must be a positive int"):
        Adam(steps=0)
    with pytest.raises(ValueError, match="LBFGS.steps must be a positive int"):
        LBFGS(steps=-5)
    with pytest.raises(ValueError, match="Adam.lr must be a finite number > 0"):
        Adam(steps=5, lr=float("nan"))
    with pytest.raises(TypeError, match="Stage objects"):
        Trainer(model, loss, ["adam"])
    with pytest.raises(ValueError, match="no checkpoint to resume"):
        Trainer(model, loss, STAGES, checkpoint=tmp_path / "none.pt").resume()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="choose another path"):
        Trainer(model, loss, STAGES, checkpoint=blocker / "ckpt.pt")


def test_ctrl_c_stops_at_the_end_of_the_step_with_a_checkpoint_and_a_second_one_at_once(tmp_path):
    import os
    import signal

    model, loss = _setup()
    reference = Trainer(model, loss, STAGES, progress=False).run()
    expected = {k: v.clone() for k, v in model.state_dict().items()}

    def ctrl_c(step, record):
        if step == 7:
            os.kill(os.getpid(), signal.SIGINT)

    path = tmp_path / "ckpt.pt"
    model, loss = _setup()
    stopped = Trainer(model, loss, STAGES, checkpoint=path, checkpoint_every=100, progress=False, callbacks=[ctrl_c]).run()
    assert stopped.stopped_by == "SIGINT" and not stopped.success and stopped.steps == 7
    assert "stopped by SIGINT after step 7, with a checkpoint" in stopped.message
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back

    model, loss = _setup(seed=1)
    trainer = Trainer(model, loss, STAGES, checkpoint=path, progress=False)
    trainer.resume()
    assert trainer.step == 7
    assert trainer.run().success
    for k, v in model.state_dict().items():
        assert torch.equal(v, expected[k]), k

    def twice(step, record):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    model, loss = _setup()
    hard = Trainer(model, loss, STAGES, checkpoint=tmp_path / "other.pt", checkpoint_every=2, progress=False,
                   callbacks=[twice]).run()
    # Back to the last parameters with a finite loss: the start of step 3.
    assert hard.stopped_by is None and "interrupted after step 2; the last checkpoint is kept" in hard.message
    assert reference.steps == 35
