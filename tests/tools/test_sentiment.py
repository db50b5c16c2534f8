from __future__ import annotations

from tools.sentiment import DistressScorer


def test_distress_ranks_angry_above_neutral(scorer: DistressScorer) -> None:
    angry = scorer.score("你们这是什么破服务，我要投诉！")
    worried = scorer.score("我急着用钱，怎么办？")
    neutral = scorer.score("好的，谢谢，那我明天去网点。")
    assert angry > worried > neutral
    assert neutral == 0 and angry > 0.9
    assert scorer.score("这个我非常理解，不是不是，我写错了") < 0.6  # negation words are not anger


def test_a_run_of_exclamation_marks_is_one_exclamation(scorer: DistressScorer) -> None:
    assert scorer.score("怎么今天就这样了！！！") == scorer.score("怎么今天就这样了！")
