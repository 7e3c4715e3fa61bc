"""The member's own profile page (/profile/): their name and their time zone.

Not inside a workspace: a member's name and time zone are the same in every
workspace they belong to, so the page needs only a login.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.forms import ProfileForm
from apps.accounts.services import user_update_profile


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None,
                       initial={"full_name": user.full_name, "time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            user_update_profile(user=user, full_name=form.cleaned_data["full_name"],
                                time_zone=form.cleaned_data["time_zone"])
        except ValidationError as error:
            form.add_error("time_zone", error)
        else:
            messages.success(request, "Your profile was saved.")
            return redirect("accounts_profile")
    return render(request, "accounts/profile.html", {"form": form})
