// Filter forms whose results htmx swaps in and pushes to the address bar (directory, catalogue). Going
// Back, htmx puts back its copy of the page, taken while the form still held the values it was drawn
// with: the results and the address said "compiti" while the search box was empty, and the next filter
// dropped the search. So the form is set again from the address it now shows.
document.addEventListener("htmx:historyRestore", function () {
  var params = new URLSearchParams(window.location.search);
  document.querySelectorAll("form[hx-push-url]").forEach(function (form) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.type === "submit" || field.type === "button" || field.type === "hidden") return;
      var values = params.getAll(field.name);
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = values.indexOf(field.value) !== -1;
      } else if (field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) { option.selected = values.indexOf(option.value) !== -1; });
      } else {
        field.value = values.length ? values[values.length - 1] : "";
      }
    });
  });
});
