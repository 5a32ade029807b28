// After a refused form, take the keyboard and the screen reader to the first field to correct: its
// label and its error (tied by aria-describedby) are read out, and the summary above says why the page
// came back. Without this the focus stayed at the top of the page.
document.addEventListener("DOMContentLoaded", function () {
  var field = document.querySelector('form [aria-invalid="true"]');
  if (field) field.focus();
});
