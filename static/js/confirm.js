// Forms with data-confirm ask before they are sent (a change that mails people or raises a capacity).
// Without JavaScript they are sent at once, as every form works without it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
