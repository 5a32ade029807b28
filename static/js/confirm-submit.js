// A submit button with data-confirm asks before its form goes (taking a public page down, say).
// Without JavaScript the button simply sends the form, as every core form must work without it.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
