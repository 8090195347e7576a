/*
 * The staff menu folds away on phones (issue 22): a "Menu" button, a disclosure
 * (aria-expanded, aria-controls), shows and hides the navigation.
 *
 * Progressive enhancement: without this file the button stays hidden and the menu open.
 * On wide screens the stylesheet hides the button and always shows the menu, whatever
 * the button says; the script only decides the state on a narrow screen. Escape closes
 * the open menu and gives the focus back to the button.
 */
(function () {
  "use strict";

  var nav = document.querySelector("[data-menu]");
  var toggle = nav && nav.querySelector(".menu-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("menu-closed", !open);
  }

  toggle.hidden = false;
  nav.classList.add("menu-ready");
  setOpen(false);
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  nav.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
