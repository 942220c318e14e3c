"""Figures say what they show: their labels against what is drawn, on tiny inputs the test makes."""
import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402


def summary(label, successes, trials=10, curve=()):
    """What the ablation knows of one setup (stepsignal/experiments/ablation.py), made up."""
    rate = successes / trials
    return {'label': label, 'title': f'what {label} does', 'success_text': f'{successes} of {trials}',
            'success': {'rate': rate, 'trials': trials, 'ci95_low': max(0.0, rate - 0.2),
                        'ci95_high': min(1.0, rate + 0.2)},
            'median_l2': 1.0 - rate, 'median_first_success_env_steps': None, 'failed_to_run': 0,
            'curve': list(curve)}


def labels_top_to_bottom(axis):
    ticks = axis.get_yticklabels()
    heights = axis.transData.transform([(0, tick.get_position()[1]) for tick in ticks])[:, 1]
    return [tick.get_text() for _, tick in sorted(zip(heights, ticks), key=lambda pair: -pair[0])]


def test_the_rates_figure_draws_its_first_row_at_the_top_as_the_ablation_label_says():
    from stepsignal.experiments.ablation import rates_figure

    rows = [summary('fixed', 10), summary('FIX-4', 0), summary('FIX-6', 2)]
    figure = rates_figure(rows, 'title', 'reverted fix (the fixed setup at the top, then the costliest loss)')
    try:
        axis = figure.axes[0]
        assert labels_top_to_bottom(axis) == ['fixed', 'FIX-4', 'FIX-6']
        assert 'fixed setup at the top' in axis.get_ylabel()
        bars = sorted(axis.patches, key=lambda bar: -axis.transData.transform((0, bar.get_y()))[1])
        assert [bar.get_width() for bar in bars] == [100.0, 0.0, 20.0]  # each bar beside its label
    finally:
        plt.close(figure)


def test_the_ladder_and_ablation_labels_say_where_their_first_rows_land(tmp_path, monkeypatch):
    import stepsignal.experiments.ablation as ablation

    drawn = {}
    monkeypatch.setattr(ablation, 'draw_rates', lambda path, rows, title, ylabel: drawn.update(
        {path.name: ([row['label'] for row in rows], ylabel)}))
    monkeypatch.setattr(ablation, 'draw_curves', lambda path, rows: None)
    about = {'command': 'python -m stepsignal ablate', 'date': '2026-12-01', 'machine': 'a test', 'seeds': [0],
             'steps': 100, 'environment': {}}
    rungs = [summary('original', 0), summary('+FIX-4', 0), summary('+FIX-6', 10)]
    ablation.write_ladder(tmp_path, about, rungs)
    order, ylabel = drawn['ladder.png']
    assert order[-1] == 'original' and "original's setup at the bottom" in ylabel  # the first row is drawn on top
    setups = [summary('fixed', 10), summary('FIX-6', 2), summary('FIX-4', 0)]  # the grid's order
    ablation.write_leave_one_out(tmp_path, about, setups)
    order, ylabel = drawn['ablation.png']
    assert order[:2] == ['fixed', 'FIX-4'] and 'fixed setup at the top' in ylabel  # costliest loss next


def test_the_ablation_curves_say_they_are_per_check_not_the_kept_policy():
    import stepsignal.experiments.ablation as ablation

    rows = [summary('fixed', 10, curve=[(100, 5.0), (200, 0.05)]), summary('FIX-4', 0, curve=[(100, 40.0)])]
    saved = {}
    original_save = ablation.save_figure
    try:
        ablation.save_figure = lambda figure, path: saved.update(figure=figure)
        ablation.draw_curves('unused.png', rows)
    finally:
        ablation.save_figure = original_save
    axis = saved['figure'].axes[0]
    assert 'each policy check' in axis.get_ylabel() and 'best check' in axis.get_title()
    assert [text.get_text() for text in axis.get_legend().get_texts()] == [
        'the fixed setup', 'FIX-4 reverted', 'success: L2 < 1.0']
