"""What the site and the slides show: every cell of a notebook except its hidden check cells."""

from __future__ import annotations

import nbformat
from nbconvert import HTMLExporter, SlidesExporter

from tools.publish import OFFLINE, export, starter, without_checks


def notebook_with_a_check(path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny", metadata={"slideshow": {"slide_type": "slide"}}),
                nbformat.v4.new_code_cell("total = 1 + 2\ntotal", metadata={"slideshow": {"slide_type": "-"}}),
                nbformat.v4.new_code_cell("# check: the sum is pinned\nassert total == 3 and 'SECRET_CHECK_LINE'",
                                          metadata={"tags": ["check"], "jupyter": {"source_hidden": True},
                                                    "slideshow": {"slide_type": "skip"}})]
    nbformat.write(nb, path)


def test_without_checks_drops_only_check_cells(tmp_path):
    notebook_with_a_check(path := tmp_path / "01_tiny.ipynb")
    nb = nbformat.read(path, as_version=4)
    shown = without_checks(nb)
    assert [c.source for c in shown.cells] == [c.source for c in nb.cells[:2]]
    assert len(nb.cells) == 3  # the original is left alone


def test_site_page_and_slides_leave_out_check_cells(tmp_path):
    notebook_with_a_check(path := tmp_path / "01_tiny.ipynb")
    for exporter in (HTMLExporter(template_name="course_lab", **OFFLINE),
                     SlidesExporter(template_name="course_reveal", reveal_url_prefix="assets/reveal.js", **OFFLINE)):
        body = export(exporter, path)
        assert "total" in body and "SECRET_CHECK_LINE" not in body and "check: the sum" not in body
        assert "<title>01_tiny" in body  # the page is named after the notebook, as from_filename would


SOLUTION = '''# Solution 1: permute the axes, then convert and scale
imgs_np = np.zeros((4, 8, 8, 3), dtype=np.uint8)  # (B, H, W, C)
imgs = torch.from_numpy(imgs_np).permute(0, 3, 1, 2).float() / 255
assert imgs.shape == (4, 3, 8, 8)

def to_batch(a):
    """Convert (B, H, W, C) uint8 to (B, C, H, W) float."""
    return torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255
print("done")
ex1.check()'''


def test_starter_keeps_only_the_answers_names_and_ends_with_the_check():
    assert starter(SOLUTION, ("imgs", "to_batch")) == (
        "# Exercise 1: write your code, put your answers in place of each ____, then run the cell\n"
        "imgs = ____\n"
        "def to_batch(a):\n"
        '    """Convert (B, H, W, C) uint8 to (B, C, H, W) float."""\n'
        "    return ____  # your code here\n"
        "ex1.check()")


def test_a_solution_without_a_check_or_answers_gets_no_starter():
    assert starter("x = 1\nprint(x)", ("x",)) is None
    assert starter(SOLUTION, ()) is None


def test_a_class_answer_keeps_its_methods_signatures():
    source = """class MyExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        result = input.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.saved_tensors[0]

x = torch.randn(3)
ex5.check()"""
    assert starter(source, ("MyExp",)) == """# Exercise 5: write your code, put your answers in place of each ____, then run the cell
class MyExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        return ____  # your code here

    @staticmethod
    def backward(ctx, grad_output):
        return ____  # your code here
ex5.check()"""


def test_site_folds_each_solution_with_its_output_under_details(tmp_path):
    nb = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("answer = 42\nanswer", metadata={"tags": ["solution"]}, execution_count=1,
                                         outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "42"},
                                                                         execution_count=1)])
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny"), nbformat.v4.new_code_cell("shown = 1"), solution]
    nbformat.write(nb, path := tmp_path / "01_tiny.ipynb")
    body = export(HTMLExporter(template_name="course_lab", **OFFLINE), path)
    folded = body[body.index('<details class="solution">'):body.index("</details>")]
    assert "answer" in folded and ">42<" in folded.replace("\n", "")  # the code and its output are inside
    assert "shown" not in folded and body.count('<details class="solution">') == 1


def test_answers_assigned_together_each_get_a_placeholder():
    source = "train_part, valid_part = random_split(ds, [5, 5])\nsizes = len(train_part)\nex4.check()"
    assert starter(source, ("train_part", "valid_part")).splitlines()[1:] == [
        "train_part = ____", "valid_part = ____", "ex4.check()"]
