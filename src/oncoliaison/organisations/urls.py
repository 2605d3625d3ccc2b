from django.urls import path

from . import views

app_name = "organisations"
urlpatterns = [
    path("", views.organization_list, name="list"),
    path("new/", views.organization_create, name="create"),
    path("<int:pk>/", views.organization_detail, name="detail"),
    path("<int:pk>/edit/", views.organization_edit, name="edit"),
    path("<int:pk>/members/new/", views.member_add, name="member_add"),
    path("<int:pk>/members/password/", views.password_shown, name="password_shown"),
    path("<int:pk>/members/<int:membership_pk>/edit/", views.member_edit, name="member_edit"),
    path("<int:pk>/members/<int:membership_pk>/credentials/", views.member_credentials,
         name="member_credentials"),
]
